"""The deploy bundle (issue 16, item 6), checked as far as this machine can without a container engine:
the compose file against the Compose Specification's schema, every service of deploy/services.toml in
the compose file, the systemd units and the PostgreSQL roles on its port, scripts that parse, units
systemd accepts, the image's COPY sources, the entrypoint's secrets, and the roles SQL on a real server."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema_rs
import pytest
import yaml

from kernel.deployment import load_deployment

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
UNITS = DEPLOY / "systemd"
SCRIPTS = sorted([*DEPLOY.glob("backup/*.sh"), *DEPLOY.glob("compose/**/*.sh")])
SERVICES = load_deployment().ports


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_the_compose_file_is_valid_under_the_compose_specification_schema() -> None:
    schema = json.loads((DEPLOY / "compose" / "schema" / "compose-spec.json").read_text(encoding="utf-8"))
    errors = [
        f"{list(error.instance_path)}: {error.message}"
        for error in jsonschema_rs.validator_for(schema).iter_errors(compose())
    ]
    assert errors == []


def test_every_service_has_a_compose_service_on_its_port_with_its_own_database_and_redis_user() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    for name, port in SERVICES.items():
        service = services[name]
        environment = service["environment"]
        assert service["command"] == ["rehab", "serve", name]
        assert environment["REHAB_PORT"] == str(port)
        assert environment["REHAB_DATABASE_URL"] == f"postgresql+psycopg://{name}@postgres:5432/{name}"
        assert environment["REHAB_REDIS_USER"] == name
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
        health = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/health/live" in health
        assert f"http://127.0.0.1:{port}/health " in health


def test_the_compose_file_holds_no_password_and_every_secret_is_a_file_under_secrets() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"://[^@\s/]+:[^@\s/]+@", text), "a password in a URL"
    assert "PASSWORD:" not in text.replace("PASSWORD_FILE:", "")
    secrets = compose()["secrets"]
    assert isinstance(secrets, dict)
    assert all(secret["file"].startswith("./secrets/") for secret in secrets.values())
    for user in re.findall(r"^user (\S+) on", (DEPLOY / "redis" / "users.acl").read_text(), re.MULTILINE):
        assert f"redis_{user}_password" in secrets, f"the Redis user {user} of deploy/redis has no secret"


def test_redis_runs_with_the_acl_users_and_config_of_deploy_redis_in_a_sentinel_group() -> None:
    document = compose()
    configs = document["configs"]
    assert isinstance(configs, dict)
    assert configs["redis_users"]["file"] == "../redis/users.acl"
    assert configs["redis_conf"]["file"] == "../redis/redis.conf"
    services = document["services"]
    assert isinstance(services, dict)
    sentinels = [name for name in services if name.startswith("sentinel-")]
    assert len(sentinels) == 3
    assert {"redis-1", "redis-2"} <= set(services)


def test_every_service_has_a_systemd_instance_and_a_database_role() -> None:
    template = (UNITS / "rehab@.service").read_text(encoding="utf-8")
    target = (UNITS / "rehab.target").read_text(encoding="utf-8")
    roles = (DEPLOY / "postgresql" / "roles.sql").read_text(encoding="utf-8")
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=", "User=rehab"):
        assert option in template
    assert "rehab serve %i" in template  # the port is the service's own in deploy/services.toml
    for name, port in SERVICES.items():
        assert f"rehab@{name}.service" in target
        assert re.search(rf"^-- {name}\s+{name}\s+{port}$", roles, re.MULTILINE), name
        assert f"ALTER ROLE {name} PASSWORD :'{name}_password';" in roles


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    # A root with the units, the system's own units, and stand-ins for the executables they name.
    units = tmp_path / "etc" / "systemd" / "system"
    shutil.copytree(UNITS, units)
    system = Path("/usr/lib/systemd/system")
    if system.is_dir():
        shutil.copytree(system, tmp_path / "usr" / "lib" / "systemd" / "system", symlinks=True)
    for executable in ("opt/rehab/.venv/bin/python", *(f"opt/rehab/deploy/backup/{s.name}" for s in SCRIPTS)):
        path = tmp_path / executable
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    names = [f"rehab@{name}.service" for name in SERVICES]
    names += ["rehab-console.service", "rehab.target", "rehab-backup.service", "rehab-backup.timer"]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", *names],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(DEPLOY)))
def test_the_script_parses_and_passes_shellcheck_if_installed(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def test_every_copy_source_of_the_containerfile_exists() -> None:
    containerfile = (DEPLOY / "container" / "Containerfile").read_text(encoding="utf-8")
    sources = []
    for line in containerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            sources += [word for word in words[1:-1] if not word.startswith("--")]
    assert sources, "no COPY"
    assert [source for source in sources if not (ROOT / source).exists()] == []
    assert "npm ci" in containerfile and "USER 10001:10001" in containerfile
    assert "useradd --system --uid 10001" in containerfile


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed here")
def test_hadolint_finds_nothing_in_the_containerfile() -> None:
    command = ["hadolint", "--no-color", str(DEPLOY / "container" / "Containerfile")]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def entrypoint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("entrypoint", DEPLOY / "container" / "entrypoint.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_entrypoint_turns_secret_files_into_the_redis_url_and_pgpassword(tmp_path: Path) -> None:
    (tmp_path / "redis").write_text("p@ss/word\n")
    (tmp_path / "database").write_text("secret\n")
    (tmp_path / "token").write_text("PRIVATE KEY\n")
    environment = {
        "REHAB_REDIS_USER": "survey",
        "REHAB_REDIS_PASSWORD_FILE": str(tmp_path / "redis"),
        "REHAB_REDIS_ADDRESS": "redis-1:6379",
        "REHAB_DATABASE_PASSWORD_FILE": str(tmp_path / "database"),
        "REHAB_TOKEN_KEY_FILE": str(tmp_path / "token"),
        "REHAB_ACCESS_DIR": str(tmp_path / "access"),
    }
    entrypoint().prepare(environment)
    assert environment["REHAB_REDIS_URL"] == "redis://survey:p%40ss%2Fword@redis-1:6379/0"
    assert environment["PGPASSWORD"] == "secret"
    key = tmp_path / "access" / "token-key.pem"
    assert key.read_text() == "PRIVATE KEY\n" and key.stat().st_mode & 0o777 == 0o600


def test_the_entrypoint_reads_systemd_credentials_and_refuses_a_missing_secret(tmp_path: Path) -> None:
    (tmp_path / "redis-password").write_text("pw")
    environment = {"CREDENTIALS_DIRECTORY": str(tmp_path), "REHAB_REDIS_USER": "delivery"}
    module = entrypoint()
    module.prepare(environment)
    assert environment["REHAB_REDIS_URL"] == "redis://delivery:pw@127.0.0.1:6379/0"
    with pytest.raises(module.EntrypointError, match="REHAB_DATABASE_PASSWORD_FILE"):
        module.prepare({"REHAB_DATABASE_PASSWORD_FILE": str(tmp_path / "missing")})


def test_the_roles_sql_makes_a_database_per_service_on_a_real_postgresql_twice() -> None:
    from tests.local_postgres import LocalPostgres, postgres_binaries

    if postgres_binaries() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed here (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        psql = [
            "psql",
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]
        passwords = [f"-v{role}_password=it's {role}" for role in [*SERVICES, "console"]]
        for _ in range(2):  # safe to run again
            subprocess.run(
                [*psql, *passwords, "-f", str(DEPLOY / "postgresql" / "roles.sql")],
                check=True,
                capture_output=True,
                timeout=60,
            )
        owners = subprocess.run(
            [*psql, "-At", "-c", "SELECT datname || '=' || pg_get_userbyid(datdba) FROM pg_database"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        assert {f"{name}={name}" for name in [*SERVICES, "console"]} <= set(owners)
    finally:
        server.stop()


def test_prepare_secrets_makes_every_secret_the_compose_file_names(tmp_path: Path) -> None:
    rehab = Path(sys.executable).parent / "rehab"
    if not rehab.exists():
        pytest.skip("the rehab command is not installed beside this Python")
    shutil.copy(DEPLOY / "compose" / "prepare-secrets.sh", tmp_path)
    environment = {**os.environ, "REHAB": str(rehab)}
    command = ["bash", str(tmp_path / "prepare-secrets.sh")]
    subprocess.run(command, env=environment, check=True, capture_output=True, timeout=300)
    document = compose()
    files = [item["file"] for item in [*document["secrets"].values(), *document["configs"].values()]]
    secret_files = [file for file in files if file.startswith("./secrets/")]
    assert [file for file in secret_files if not (tmp_path / file).exists()] == []
    for service in SERVICES:
        folder = tmp_path / "secrets" / "signing-keys" / service
        assert [key.parent.name for key in folder.glob("*/*.key")] == [service]
        assert {key.parent.name for key in folder.glob("*/*.pub")} == set(SERVICES)
    first = (tmp_path / "secrets" / "redis_survey_password").read_text()
    subprocess.run(command, env=environment, check=True, capture_output=True, timeout=300)
    assert (tmp_path / "secrets" / "redis_survey_password").read_text() == first  # kept on a second run


def test_the_entrypoint_gives_settlement_its_data_key_token_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("rehab1.claims.signature\n")
    environment = {"REHAB_DATA_KEY_TOKEN_FILE": str(tmp_path / "token")}
    entrypoint().prepare(environment)
    assert environment["REHAB_DATA_KEY_TOKEN"] == "rehab1.claims.signature"


def test_the_entrypoint_passes_the_sentinels_password_on_for_a_service_that_follows_the_group(
    tmp_path: Path,
) -> None:
    (tmp_path / "sentinel").write_text("s3cret\n")
    environment = {
        "REHAB_REDIS_SENTINELS": "sentinel-1:26379",
        "REHAB_REDIS_SENTINEL_PASSWORD_FILE": str(tmp_path / "sentinel"),
    }
    entrypoint().prepare(environment)  # no user and password of its own: no URL to build, no Sentinel asked
    assert environment["REHAB_REDIS_SENTINEL_PASSWORD"] == "s3cret"
    assert "REHAB_REDIS_URL" not in environment
