"""The deploy bundle gives each producing service the retention user's URL, so its stream is trimmed
behind the slowest group (the agencies' users may not XTRIM: without it streams grew without limit until
Redis, noeviction, refused writes), and every systemd unit the Sentinels' password."""

from __future__ import annotations

import configparser
from pathlib import Path

from rehab_contracts import STREAM_OF_PRODUCER

from kernel.messaging.retention import RETENTION_REDIS_VARIABLE
from tests.deploy.test_bundle import DEPLOY, SERVICES, UNITS, compose, entrypoint

PRODUCERS = sorted(STREAM_OF_PRODUCER)


def credentials_of(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8"))
    line = parser.get("Service", "LoadCredential")
    name, _, path = line.partition(":")
    return {name: path}


def test_the_entrypoint_turns_the_retention_password_into_the_retention_users_url(tmp_path: Path) -> None:
    (tmp_path / "redis-password").write_text("pw")
    (tmp_path / "redis-retention-password").write_text("tr/m\n")
    environment = {
        "CREDENTIALS_DIRECTORY": str(tmp_path),
        "REHAB_REDIS_USER": "survey",
        "REHAB_REDIS_ADDRESS": "redis-1:6379",
    }
    entrypoint().prepare(environment)
    assert environment["REHAB_REDIS_URL"] == "redis://survey:pw@redis-1:6379/0"
    assert environment[RETENTION_REDIS_VARIABLE] == "redis://retention:tr%2Fm@redis-1:6379/0"


def test_without_the_retention_password_no_retention_url_is_made(tmp_path: Path) -> None:
    environment = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    entrypoint().prepare(environment)
    assert RETENTION_REDIS_VARIABLE not in environment


def test_every_producing_compose_service_gets_the_retention_password_and_no_other_does() -> None:
    services = compose()["services"]
    for name in SERVICES:
        service = services[name]
        given = "redis_retention_password" in service["secrets"]
        named = service["environment"].get("REHAB_RETENTION_REDIS_PASSWORD_FILE")
        assert (given, named) == (
            (True, "/run/secrets/redis_retention_password") if name in PRODUCERS else (False, None)
        ), name
    script = (DEPLOY / "compose" / "prepare-secrets.sh").read_text(encoding="utf-8")
    assert '"$secrets/redis_retention_password"' in script.split("shared=(", 1)[1].split(")", 1)[0]


def test_every_producing_systemd_instance_loads_the_retention_password_and_every_unit_the_sentinels() -> None:
    for name in PRODUCERS:
        drop_in = UNITS / f"rehab@{name}.service.d" / "redis-retention.conf"
        assert credentials_of(drop_in) == {
            "redis-retention-password": "/etc/rehab/credentials/redis-retention-password"
        }
    assert not (UNITS / "rehab@settlement.service.d" / "redis-retention.conf").exists()
    sentinel = UNITS / "rehab@.service.d" / "redis-sentinel.conf"
    assert credentials_of(sentinel) == {
        "redis-sentinel-password": "/etc/rehab/credentials/redis-sentinel-password"
    }
