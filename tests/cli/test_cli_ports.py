"""`rehab up --base-port / --ports`: the five services and the console on ports the operator chooses;
a taken port is named with the option to use instead (issue 18)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from rehab.cli_deployment import Ports, port_taken
from rehab.cli_failures import CommandFailed, ExitCode
from rehab.local_redis import free_port
from rehab.services import SERVICES
from tests.cli.runner import rehab


def test_a_base_port_puts_the_console_on_it_and_the_services_after_it_in_workflow_order() -> None:
    ports = Ports.chosen(9100)
    assert ports.console == 9100
    assert ports.services == {service: 9101 + offset for offset, service in enumerate(SERVICES)}


def test_named_ports_override_the_base_port_and_the_configured_ones() -> None:
    assert Ports.chosen(9100, "survey=9201, console=9200").services["survey"] == 9201
    assert Ports.chosen(9100, "survey=9201, console=9200").console == 9200
    assert Ports.chosen(None, "delivery=9204").services == Ports.configured().services | {"delivery": 9204}


@pytest.mark.parametrize(
    ("base_port", "ports", "said"),
    [
        (None, "surve=9101", "--ports 中的 'surve=9101' 无效"),
        (None, "survey:9101", "名称=端口"),
        (None, "survey=http", "端口 'http' 无效"),
        (70000, None, "--base-port 70000 无效"),
        (9100, "survey=9102", "端口 9102 同时分给了 survey 和 assessment"),
    ],
)
def test_a_port_option_that_cannot_be_used_is_refused_in_chinese(
    base_port: int | None, ports: str | None, said: str
) -> None:
    with pytest.raises(CommandFailed) as refused:
        Ports.chosen(base_port, ports)
    assert refused.value.code == ExitCode.USAGE and said in refused.value.message


def test_rehab_up_with_a_port_of_its_base_taken_names_the_port_and_the_options_and_starts_nothing(
    tmp_path: Path,
) -> None:
    base = _free_run_of(len(SERVICES) + 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 3))  # approval's, third after the console
        taken.listen()
        ran = rehab("up", "--base-port", str(base), "--var-dir", str(tmp_path / "var"))
    assert ran.code == ExitCode.PORT_IN_USE, ran.err
    assert f"端口 {base + 3} 已被占用" in ran.err and "approval" in ran.err
    assert "--base-port / --ports" in ran.err and len(ran.err.strip().splitlines()) == 1
    assert not (tmp_path / "var").exists()  # nothing started: not even Redis


def test_rehab_up_with_a_wrong_ports_option_is_a_usage_error() -> None:
    ran = rehab("up", "--ports", "portal=9100")
    assert ran.code == ExitCode.USAGE and "名称=端口" in ran.err


@pytest.fixture
def volatile_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server without AOF: a crash would lose acknowledged entries."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--appendonly", "no", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def test_rehab_up_on_a_redis_that_may_lose_events_says_why_in_chinese(
    tmp_path: Path, volatile_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def started(*_args: object, **_options: object) -> None:
        raise AssertionError("rehab up started services on a Redis that may lose events")

    monkeypatch.setattr("rehab.processes.ServiceProcesses.start", started)
    monkeypatch.delenv("REHAB_ALLOW_VOLATILE_REDIS", raising=False)
    base = _free_run_of(len(SERVICES) + 1)
    ran = rehab(
        "up", "--redis-url", volatile_redis, "--base-port", str(base), "--var-dir", str(tmp_path / "var")
    )
    assert ran.code == ExitCode.USAGE, ran.err
    assert "可能丢失已确认的事件（未开启 AOF（appendonly 不是 yes）" in ran.err
    assert "REHAB_ALLOW_VOLATILE_REDIS=1" in ran.err and not (tmp_path / "var").exists()


def _free_run_of(count: int) -> int:
    """A port where it and the ``count - 1`` after it are free (so only the one the test takes is met)."""
    while True:
        base = free_port()
        if base + count <= 65535 and not any(port_taken(base + offset) for offset in range(count)):
            return base


def test_rehab_serve_on_a_taken_port_names_it_and_the_option_before_touching_the_store(
    tmp_path: Path,
) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "rehab.cli", "serve", "survey", "--port", str(port),
             "--var-dir", str(tmp_path / "var"), "--redis-url", "redis://127.0.0.1:1/0"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == ExitCode.PORT_IN_USE, done.stderr
    assert done.stderr.strip() == (
        f"端口 {port} 已被占用（port in use），survey 无法启动：先停止占用它的程序（也许是另一个 rehab up；"
        f"ss -ltnp | grep {port} 可查），或用 --port（或 REHAB_PORT） 换用空闲的端口"
    )
    assert not (tmp_path / "var").exists()
