"""Data keys wrapped under a key-encryption key that every forget rotates (issue 14, defect 2, PostgreSQL):
what the database keeps beyond a statement's reach — dead tuples, WAL segments, archives, backups — holds
a forgotten person's key only under a KEK that no longer exists."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from kernel.access.auth import Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.runtime import ServiceSettings
from kernel.settings import SettingsInvalid
from services.survey import key_wrapping
from services.survey.app import create_app
from services.survey.key_wrapping import KekStore, UnknownKek
from services.survey.keys import person_keys_table
from services.survey.privacy import KeyRelease
from tests.apps import state_of
from tests.local_postgres import LocalPostgres, postgres_binaries
from tests.privacy.test_forgotten_key_bytes import files_holding
from tests.survey.people import make_id, person_body

TOKEN_KEY = Ed25519PrivateKey.generate()


def settlement_token() -> dict[str, str]:
    principal = Principal("结算", "settlement", frozenset({Role.STAFF}), Scope("district"))
    issued = TokenIssuer(TOKEN_KEY).issue(principal, now=datetime.now(UTC), token_id=str(uuid4()))
    return {"Authorization": f"Bearer {issued}"}


@pytest.fixture
def kek_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "person-kek"
    monkeypatch.setenv("REHAB_PERSON_KEK_DIR", str(folder))
    monkeypatch.setenv("REHAB_PERSON_KEK_RETENTION_HOURS", "0")
    return folder


def survey_client(database_url: str, redis_url: str) -> TestClient:
    settings = ServiceSettings(service="survey", database_url=database_url, redis_url=redis_url)
    release = KeyRelease(TokenVerifier((TOKEN_KEY.public_key(),)))
    return TestClient(create_app(settings, key_release=release))


@pytest.fixture
def client(tmp_path: Path, kek_dir: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    with survey_client(f"sqlite:///{tmp_path}/survey.db", redis_url) as test_client:
        yield test_client


def register(client: TestClient, sequence: int) -> str:
    id_number = make_id(date(1958, 4, 12), f"{sequence:03d}")
    body = person_body(id_number=id_number, certificate_number=id_number + "12", name=f"李{sequence}")
    response = client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def released_key(client: TestClient, person_id: str) -> bytes:
    response = client.get(f"/persons/{person_id}/data-key", headers=settlement_token())
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["key"])


def stored(engine: Engine, person_id: str) -> bytes:
    with engine.connect() as connection:
        value = connection.scalar(
            select(person_keys_table.c.key).where(person_keys_table.c.person_id == person_id)
        )
    assert value is not None
    return bytes(value)


def engine_of(client: TestClient) -> Engine:
    engine: Engine = state_of(client).runtime.store.engine
    return engine


def forget(client: TestClient, person_id: str) -> None:
    assert client.post(f"/persons/{person_id}/forget").status_code == 200


def keks(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# -- on SQLite: the mechanism -------------------------------------------------------------------------
def test_a_data_key_is_stored_only_wrapped_under_a_kek_kept_outside_the_database(
    client: TestClient, kek_dir: Path
) -> None:
    person_id = register(client, 231)
    key = released_key(client, person_id)
    in_table = stored(engine_of(client), person_id)
    assert key not in in_table and len(in_table) == 77
    [kek] = keks(kek_dir)
    assert kek == f"{key_wrapping.kek_of(in_table)}.kek"
    assert (kek_dir / kek).stat().st_mode & 0o777 == 0o600
    assert client.get(f"/persons/{person_id}").json()["name"] == "李231"  # sealed details still open


def test_a_forget_rotates_the_kek_destroys_the_old_one_and_keeps_every_other_key(
    client: TestClient, kek_dir: Path
) -> None:
    forgotten, kept = register(client, 231), register(client, 251)
    kept_key = released_key(client, kept)
    backup = stored(engine_of(client), forgotten)  # what a backup or a WAL segment of before holds

    forget(client, forgotten)

    [kek] = keks(kek_dir)
    assert kek != f"{key_wrapping.kek_of(backup)}.kek"
    assert key_wrapping.kek_of(stored(engine_of(client), kept)) == kek.removesuffix(".kek")
    assert released_key(client, kept) == kept_key
    assert client.get(f"/persons/{kept}").json()["name"] == "李251"
    with pytest.raises(UnknownKek):
        key_wrapping.unwrap(KekStore.configured(), forgotten, backup)


def test_a_retired_kek_is_kept_for_the_retention_so_an_older_backup_restores_then_destroyed(
    client: TestClient, kek_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_PERSON_KEK_RETENTION_HOURS", "1")
    forgotten, kept = register(client, 231), register(client, 251)
    kept_key, backup = released_key(client, kept), stored(engine_of(client), kept)
    forget(client, forgotten)
    assert key_wrapping.unwrap(KekStore.configured(), kept, backup) == kept_key  # a restore still works
    assert len(keks(kek_dir)) == 2

    monkeypatch.setenv("REHAB_PERSON_KEK_RETENTION_HOURS", "0")  # as if the hour had passed
    assert released_key(client, kept) == kept_key  # any key read then destroys it, no forget needed

    assert len(keks(kek_dir)) == 1
    with pytest.raises(UnknownKek):
        key_wrapping.unwrap(KekStore.configured(), kept, backup)
    assert released_key(client, kept) == kept_key


def test_a_key_stored_before_wrapping_is_read_and_wrapped_at_the_next_rotation(
    client: TestClient, kek_dir: Path
) -> None:
    person_id = register(client, 231)
    key = released_key(client, person_id)
    with engine_of(client).begin() as connection:  # as a registry that ran without REHAB_PERSON_KEK_DIR
        connection.execute(
            update(person_keys_table).where(person_keys_table.c.person_id == person_id).values(key=key)
        )
    assert released_key(client, person_id) == key

    forget(client, register(client, 251))

    assert key not in stored(engine_of(client), person_id)
    assert released_key(client, person_id) == key


# -- on PostgreSQL: every file of the server --------------------------------------------------------------
@pytest.fixture(scope="module")
def postgres() -> Iterator[LocalPostgres]:
    """A server of this module's own, whose data directory (heap, WAL) the tests read."""
    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


def fresh_database(postgres: LocalPostgres) -> str:
    from sqlalchemy import create_engine, text

    name = f"survey_{uuid4().hex[:8]}"
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


def forget_on_postgres(postgres: LocalPostgres, redis_url: str) -> tuple[str, bytes, bytes]:
    """Two persons registered, the first forgotten: its id, its key, and its stored key before the forget
    (what a WAL segment, an archive or a base backup of before holds)."""
    with survey_client(fresh_database(postgres), redis_url) as client:
        forgotten, kept = register(client, 231), register(client, 251)
        key, kept_key = released_key(client, forgotten), released_key(client, kept)
        before = stored(engine_of(client), forgotten)
        forget(client, forgotten)
        assert released_key(client, kept) == kept_key
        engine_of(client).dispose()
    return forgotten, key, before


def test_without_wrapping_postgresql_keeps_a_forgotten_key_in_its_files(
    postgres: LocalPostgres, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the design exists: the forget's DELETE leaves the key in the WAL (and in the heap until VACUUM)."""
    monkeypatch.delenv("REHAB_PERSON_KEK_DIR", raising=False)
    _forgotten, key, _before = forget_on_postgres(postgres, redis_url)
    assert files_holding(postgres.dir / "data", key) != []


def test_on_postgresql_a_forgotten_key_is_in_no_file_and_its_wrapped_copies_name_a_destroyed_kek(
    postgres: LocalPostgres, redis_url: str, redis_client: redis.Redis, kek_dir: Path
) -> None:
    forgotten, key, before = forget_on_postgres(postgres, redis_url)

    assert files_holding(postgres.dir / "data", key) == []
    assert files_holding(kek_dir, key) == []
    old_kek = key_wrapping.kek_of(before)
    assert old_kek is not None and not any(path.stem == old_kek for path in kek_dir.iterdir())
    with pytest.raises(UnknownKek):
        key_wrapping.unwrap(KekStore.configured(), forgotten, before)


# -- at start ---------------------------------------------------------------------------------------------
def test_survey_refuses_to_start_on_a_negative_retention_naming_the_variable(
    kek_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_PERSON_KEK_RETENTION_HOURS", "-1")
    with pytest.raises(SettingsInvalid, match="REHAB_PERSON_KEK_RETENTION_HOURS"):
        create_app(ServiceSettings(service="survey", database_url="sqlite:///:memory:"))


def test_a_postgresql_registry_without_wrapping_is_warned_at_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("REHAB_PERSON_KEK_DIR", raising=False)
    create_app(
        ServiceSettings(service="survey", database_url="postgresql+psycopg://survey@127.0.0.1:1/survey")
    )
    assert "REHAB_PERSON_KEK_DIR is unset" in caplog.text
