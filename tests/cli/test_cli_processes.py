"""`rehab` as a real process in the cases where Python would print a traceback: a closed pipe, Redis
down, a taken port, a service down. Each ends with a Chinese line and its exit code (docs/cli.md)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from kernel.access.audit import AuditEntry, AuditTrail
from kernel.deployment import SERVICES_FILE
from kernel.store.store import EventStore, create_store_engine
from rehab.cli_failures import ExitCode
from rehab.local_redis import free_port
from rehab.services import SERVICES


def rehab(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rehab.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def nothing_listening() -> str:
    """A Redis URL at a port where nothing answers."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def services_file(tmp_path: Path) -> Iterator[tuple[Path, dict[str, int]]]:
    """deploy/services.toml with ports of their own, so no other deployment on this machine is met."""
    ports = {service: free_port() for service in SERVICES}
    text = SERVICES_FILE.read_text(encoding="utf-8")
    for service, port in ports.items():
        text = re.sub(rf'(name = "{service}"\n(?:.*\n)*?port = )\d+', rf"\g<1>{port}", text, count=1)
    path = tmp_path / "services.toml"
    path.write_text(text, encoding="utf-8")
    yield path, ports


def test_rehab_audit_into_a_reader_that_stops_early_ends_quietly_with_141(tmp_path: Path) -> None:
    read_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    entry = AuditEntry(
        read_at, "周干事", "survey", "staff", "street:鸳鸯", "GET /persons/p", "p", "入户核查", 200
    )
    AuditTrail(create_engine(f"sqlite:///{tmp_path}/survey.db")).record_all([entry] * 5000)
    command = [sys.executable, "-m", "rehab.cli", "audit", "--service", "survey", "--var-dir", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as audit:  # `| head -1`
        assert audit.stdout is not None and audit.stderr is not None
        audit.stdout.readline()
        audit.stdout.close()
        stderr = audit.stderr.read().decode()
        code = audit.wait(timeout=60)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert code == ExitCode.BROKEN_PIPE


def test_dlq_list_with_redis_down_says_redis_does_not_answer(nothing_listening: str) -> None:
    done = rehab("dlq", "list", "--redis-url", nothing_listening)
    assert "Traceback" not in done.stderr
    assert done.returncode == ExitCode.UNREACHABLE and "Redis 没有应答" in done.stderr


def test_verify_with_redis_down_says_redis_does_not_answer(tmp_path: Path, nothing_listening: str) -> None:
    for service in SERVICES:
        EventStore(
            create_store_engine(f"sqlite:///{tmp_path}/{service}.db"), producer=service
        ).create_schema()
    done = rehab("verify", "--var-dir", str(tmp_path), "--redis-url", nothing_listening)
    assert "Traceback" not in done.stderr
    assert done.returncode == ExitCode.UNREACHABLE and "Redis 没有应答" in done.stderr


def test_rehab_up_with_a_port_taken_names_the_port_and_starts_nothing(
    tmp_path: Path, services_file: tuple[Path, dict[str, int]], redis_url: str
) -> None:
    path, ports = services_file
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["approval"]))
        taken.listen()
        done = rehab("up", "--var-dir", str(tmp_path), "--redis-url", redis_url,
                     env={"REHAB_SERVICES_FILE": str(path), "REHAB_ALLOW_VOLATILE_REDIS": "1"})  # fmt: skip
    assert "Traceback" not in done.stderr
    assert done.returncode == ExitCode.PORT_IN_USE
    assert f"端口 {ports['approval']} 已被占用" in done.stderr and "approval" in done.stderr
    assert not (tmp_path / "logs").exists()


def test_the_demo_with_the_services_down_says_they_do_not_answer(
    tmp_path: Path, services_file: tuple[Path, dict[str, int]]
) -> None:
    path, _ports = services_file
    done = rehab("demo", "--persons", "1", "--var-dir", str(tmp_path), env={"REHAB_SERVICES_FILE": str(path)})
    assert "Traceback" not in done.stderr
    assert (
        done.returncode == ExitCode.UNREACHABLE
        and "服务没有应答" in done.stderr
        and "rehab up" in done.stderr
    )
