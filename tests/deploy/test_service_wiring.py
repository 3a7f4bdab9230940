"""The compose file's settings for every service and the console, run without containers:
PostgreSQL with roles.sql and password logins only, Redis started by start-redis.sh, the secrets of
prepare-secrets.sh, and each process started through deploy/container/entrypoint.py in production mode
with the environment compose.yaml gives it (host names and /run/secrets paths mapped to this machine).
It must become live and ready."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kernel.deployment import load_deployment
from rehab.local_redis import free_port
from tests.local_postgres import LocalPostgres, postgres_binaries

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REHAB = Path(sys.executable).parent / "rehab"

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
    pytest.mark.skipif(postgres_binaries() is None or shutil.which("psql") is None, reason="no PostgreSQL"),
    pytest.mark.skipif(not REHAB.exists(), reason="the rehab command is not installed beside this Python"),
]


# The secrets, PostgreSQL and Redis are shared by the module's processes (one each per service and the
# console, started and stopped in turn): each logs in as its own role to its own database and as its
# own Redis user, so none sees what another did; starting them once spares an initdb, roles.sql and
# prepare-secrets.sh per process.
@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compose")
    shutil.copy(DEPLOY / "compose" / "prepare-secrets.sh", folder)
    environment = {**os.environ, "REHAB": str(REHAB)}
    subprocess.run(
        ["bash", str(folder / "prepare-secrets.sh")], env=environment, check=True, capture_output=True
    )
    return folder / "secrets"


@pytest.fixture(scope="module")
def postgres(secrets: Path) -> Iterator[LocalPostgres]:
    server = LocalPostgres().start()
    try:
        connection = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", "postgres"]
        passwords = []
        for role in ("survey", "assessment", "approval", "delivery", "settlement", "console"):
            passwords.append(f"-v{role}_password={(secrets / f'{role}_database_password').read_text()}")
        roles = ["psql", "-X", "-q", *connection, *passwords, "-f", str(DEPLOY / "postgresql" / "roles.sql")]
        subprocess.run(roles, check=True, capture_output=True, timeout=60)
        # Only the superuser without a password (the test's own); the services' roles must log in with theirs.
        (server.dir / "data" / "pg_hba.conf").write_text(
            "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        subprocess.run(
            ["psql", "-X", "-q", *connection, "-c", "SELECT pg_reload_conf()"], check=True, timeout=60
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_port(secrets: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp_path = tmp_path_factory.mktemp("redis")
    port = free_port()
    environment = {
        **os.environ,
        "REHAB_SECRETS_DIR": str(secrets),
        "REHAB_REDIS_CONFIG_DIR": str(DEPLOY / "redis"),
        "REHAB_REDIS_RUNTIME_DIR": str(tmp_path / "redis-run"),
        "REHAB_REDIS_DATA_DIR": str(tmp_path),
        "REHAB_REDIS_SELF": "127.0.0.1",
        "REHAB_REDIS_PORT": str(port),
        "REHAB_REDIS_PRIMARY": "127.0.0.1",
        "REHAB_REDIS_PRIMARY_PORT": str(port),
    }
    start = ["bash", str(DEPLOY / "compose" / "redis" / "start-redis.sh")]
    server = subprocess.Popen(start, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def compose() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def secret_paths(name: str, folder: Path) -> dict[str, str]:
    """Where each secret of a compose service would be mounted -> the file prepare-secrets.sh made."""
    document = compose()
    paths = {}
    for entry in document["services"][name].get("secrets", []):
        source = entry if isinstance(entry, str) else entry["source"]
        target = entry if isinstance(entry, str) else entry.get("target", source)
        paths[f"/run/secrets/{target}"] = str(folder / document["secrets"][source]["file"])
    return paths


def service_environment(name: str, mapping: dict[str, str]) -> dict[str, str]:
    """compose.yaml's environment of one service, its hosts and paths replaced as ``mapping`` says."""
    environment = {}
    for variable, value in compose()["services"][name]["environment"].items():
        text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda match: match[2], str(value))  # compose's defaults
        for old in sorted(mapping, key=len, reverse=True):
            text = text.replace(old, mapping[old])
        environment[variable] = text
    return environment


@pytest.mark.parametrize(("name", "port"), [*load_deployment().ports.items(), ("console", 8100)])
def test_the_process_runs_in_production_mode_on_the_compose_settings_and_secrets(
    name: str, port: int, secrets: Path, postgres: LocalPostgres, redis_port: int, tmp_path: Path
) -> None:
    http_port = free_port()
    access = tmp_path / "access"
    access.mkdir()
    shutil.copy(secrets / "token-key.pub.pem", access)
    mapping = {
        "postgres:5432": f"127.0.0.1:{postgres.port}",
        "/etc/rehab/access": str(access),
        "/var/lib/rehab": str(tmp_path / "var"),
        str(port): str(http_port),
        **secret_paths(name, secrets.parent),
    }
    compose_environment = service_environment(name, mapping)
    # No Sentinel here: the one Redis node is the primary.
    for variable in ("REHAB_REDIS_SENTINELS", "REHAB_REDIS_SENTINEL_PASSWORD_FILE"):
        compose_environment.pop(variable, None)
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("REHAB_", "PG"))},
        **compose_environment,
        "REHAB_REDIS_ADDRESS": f"127.0.0.1:{redis_port}",
        "REHAB_HOST": "127.0.0.1",
        "REHAB_CONSOLE_HOST": "127.0.0.1",
        "REHAB_VAR_DIR": str(tmp_path / "var"),
    }
    command = [str(part) for part in compose()["services"][name]["command"]]
    command[0] = str(REHAB) if command[0] == "rehab" else sys.executable
    command = [sys.executable, str(DEPLOY / "container" / "entrypoint.py"), *command]
    log = (tmp_path / f"{name}.log").open("wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        answer = health_when_ready(http_port, process, live=name != "console")
        assert answer is not None and answer.status_code == 200, (
            answer.text if answer is not None else (tmp_path / f"{name}.log").read_text()
        )
        if name != "console":
            protected = httpx.get(f"http://127.0.0.1:{http_port}/events", timeout=5)
            assert protected.status_code == 401  # production: access control on
    finally:
        process.terminate()
        process.wait(timeout=30)


def health_when_ready(port: int, process: subprocess.Popen[bytes], *, live: bool) -> httpx.Response | None:
    deadline, answer = time.monotonic() + 90, None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if live:
                httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).raise_for_status()
            answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return answer
