"""The compose file's Redis group run for real on this machine: deploy/compose/redis/start-redis.sh and
start-sentinel.sh start a primary, a replica and three Sentinels from deploy/redis's config and users with
passwords from secret files; the primary is killed and the entrypoint finds the promoted replica."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from rehab.local_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "deploy" / "compose" / "redis"
USERS = ["survey", "assessment", "approval", "delivery", "settlement", "operator", "retention"]
HOST = "127.0.0.1"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class Group:
    """Two Redis nodes and three Sentinels started by the deploy scripts, each its own process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.secrets = folder / "secrets"
        self.secrets.mkdir()
        for user in [*USERS, "replica", "sentinel"]:
            (self.secrets / f"redis_{user}_password").write_text(f"{user}-secret-{os.getpid()}\n")
        self.ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port(), free_port(), free_port()]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def password(self, user: str) -> str:
        return (self.secrets / f"redis_{user}_password").read_text().strip()

    def sentinels(self) -> str:
        return ",".join(f"{HOST}:{port}" for port in self.sentinel_ports)

    def start_node(self, index: int) -> None:
        data = self.folder / f"node-{index}"
        data.mkdir(exist_ok=True)
        environment = {
            **os.environ,
            "REHAB_SECRETS_DIR": str(self.secrets),
            "REHAB_REDIS_CONFIG_DIR": str(ROOT / "deploy" / "redis"),
            "REHAB_REDIS_RUNTIME_DIR": str(data / "run"),
            "REHAB_REDIS_DATA_DIR": str(data),
            "REHAB_REDIS_SELF": HOST,
            "REHAB_REDIS_PORT": str(self.ports[index]),
            "REHAB_REDIS_PRIMARY": HOST,
            "REHAB_REDIS_PRIMARY_PORT": str(self.ports[0]),
            "REHAB_REDIS_SENTINELS": self.sentinels(),
        }
        self._start(f"node-{index}", [str(SCRIPTS / "start-redis.sh")], environment)

    def start_sentinel(self, index: int) -> None:
        environment = {
            **os.environ,
            "REHAB_SECRETS_DIR": str(self.secrets),
            "REHAB_SENTINEL_SELF": HOST,
            "REHAB_SENTINEL_PORT": str(self.sentinel_ports[index]),
            "REHAB_SENTINEL_CONFIG": str(self.folder / f"sentinel-{index}.conf"),
            "REHAB_SENTINEL_DOWN_AFTER_MS": "1000",
            "REHAB_REDIS_PRIMARY": HOST,
            "REHAB_REDIS_PRIMARY_PORT": str(self.ports[0]),
        }
        self._start(f"sentinel-{index}", [str(SCRIPTS / "start-sentinel.sh")], environment)

    def _start(self, name: str, command: list[str], environment: dict[str, str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            ["bash", *command], env=environment, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
        )

    def client(self, port: int, user: str, password: str | None = None) -> redis.Redis:
        return redis.Redis(
            host=HOST, port=port, username=user, password=password or self.password(user), socket_timeout=2
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def eventually(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {check.__doc__ or check}")


@pytest.fixture
def group(tmp_path: Path) -> Iterator[Group]:
    group = Group(tmp_path)
    try:
        group.start_node(0)
        eventually(lambda: bool(group.client(group.ports[0], "operator").ping()))
        group.start_node(1)
        for index in range(3):
            group.start_sentinel(index)
        yield group
    finally:
        group.stop()


def entrypoint_primary(group: Group) -> str:
    spec = importlib.util.spec_from_file_location(
        "entrypoint", ROOT / "deploy" / "container" / "entrypoint.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    password_file = group.secrets / "redis_sentinel_password"
    environment = {
        "REHAB_REDIS_SENTINELS": group.sentinels(),
        "REHAB_REDIS_SENTINEL_PASSWORD_FILE": str(password_file),
    }
    try:
        return str(module.primary_from_sentinels(environment))
    except module.EntrypointError:  # no Sentinel knows a primary yet (starting, or mid-failover)
        return ""


def test_the_agency_users_of_deploy_redis_sign_in_with_their_secret_not_the_demo_password(
    group: Group,
) -> None:
    survey = group.client(group.ports[0], "survey")
    assert survey.acl_whoami() == "survey"
    survey.xadd("rehab.survey.events", {"type": "PersonRegistered"})
    with pytest.raises(redis.AuthenticationError):
        group.client(group.ports[0], "survey", "survey-demo-password").ping()
    with pytest.raises(redis.exceptions.NoPermissionError):
        survey.xadd("rehab.delivery.events", {"type": "forged"})
    persistence = survey.info("persistence")
    assert persistence["aof_enabled"] == 1


def test_the_sentinels_fail_over_to_the_replica_and_the_old_primary_rejoins_as_its_replica(
    group: Group,
) -> None:
    primary, replica = group.ports
    group.client(primary, "survey").xadd("rehab.survey.events", {"type": "PersonRegistered"})
    operator_on_replica = group.client(replica, "operator")

    def replicated() -> bool:
        return int(operator_on_replica.xlen("rehab.survey.events")) == 1

    eventually(replicated)
    eventually(lambda: entrypoint_primary(group) == f"{HOST}:{primary}")

    def every_sentinel_knows_the_replica() -> bool:
        """A Sentinel learns of replicas from the primary's INFO, every 10 s."""
        password = group.password("sentinel")
        return all(
            any(
                int(known["port"]) == replica and not known["is_sdown"]
                for known in redis.Redis(host=HOST, port=port, password=password).sentinel_slaves("rehab")
            )
            for port in group.sentinel_ports
        )

    eventually(every_sentinel_knows_the_replica)

    group.kill("node-0")

    def promoted() -> bool:
        return entrypoint_primary(group) == f"{HOST}:{replica}"

    eventually(promoted, seconds=60)
    group.client(replica, "survey").xadd("rehab.survey.events", {"type": "PersonRegistered"})
    assert group.client(replica, "operator").xlen("rehab.survey.events") == 2

    group.start_node(0)  # asks the Sentinels who is primary and starts as its replica

    def rejoined() -> bool:
        role = group.client(primary, "operator").info("replication")["role"]
        return role == "slave" and int(group.client(primary, "operator").xlen("rehab.survey.events")) == 2

    eventually(rejoined)
