"""Forgetting a person leaves their data key in no file of the deployment (issue 14, defect 2): not in the
survey database, not in its write-ahead log (-wal) or shared-memory index (-shm), not in a log file; neither
as raw bytes nor as base64 or hex text."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from kernel.access.auth import Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.runtime import ServiceSettings
from services.survey import handlers
from services.survey.app import create_app
from services.survey.privacy import KeyRelease
from tests.apps import state_of
from tests.survey.people import make_id, person_body

TOKEN_KEY = Ed25519PrivateKey.generate()


def settlement_token() -> dict[str, str]:
    principal = Principal("结算", "settlement", frozenset({Role.STAFF}), Scope("district"))
    issued = TokenIssuer(TOKEN_KEY).issue(principal, now=datetime.now(UTC), token_id=str(uuid4()))
    return {"Authorization": f"Bearer {issued}"}


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "var"
    folder.mkdir()
    return folder


@pytest.fixture
def client(var_dir: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(service="survey", var_dir=var_dir, redis_url=redis_url)
    release = KeyRelease(TokenVerifier((TOKEN_KEY.public_key(),)))
    with TestClient(create_app(settings, key_release=release)) as test_client:
        yield test_client


def register(client: TestClient, sequence: int) -> str:
    id_number = make_id(date(1958, 4, 12), f"{sequence:03d}")
    body = person_body(id_number=id_number, certificate_number=id_number + "12")
    response = client.post("/persons", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def key_of(client: TestClient, person_id: str) -> bytes:
    response = client.get(f"/persons/{person_id}/data-key", headers=settlement_token())
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["key"])


def forms(key: bytes) -> dict[str, bytes]:
    """Every spelling of the key a file could hold it in."""
    encoded = base64.b64encode(key)
    return {
        "raw": key,
        "base64": encoded,
        "base64 without padding": encoded.rstrip(b"="),
        "urlsafe base64": base64.urlsafe_b64encode(key).rstrip(b"="),
        "hex": key.hex().encode(),
        "HEX": key.hex().upper().encode(),
    }


def files_holding(folder: Path, key: bytes) -> list[str]:
    """``<file>: <form>`` for every file under ``folder`` that holds the key in some form."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found += [f"{path.name}: {form}" for form, value in forms(key).items() if value in content]
    return found


def checkpoint(client: TestClient) -> None:
    """Copy the write-ahead log into the database file, as SQLite does on its own every 1000 pages."""
    connection = state_of(client).runtime.store.engine.raw_connection()  # outside any transaction
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()


def test_after_forgetting_a_person_their_key_is_in_no_file_of_the_var_dir(
    client: TestClient, var_dir: Path
) -> None:
    person_id = register(client, 231)
    key = key_of(client, person_id)
    checkpoint(client)  # the key now lies in the database file as well as in the log
    for sequence in range(241, 341, 2):  # more persons: the key's page is written to the log again
        register(client, sequence)
    assert files_holding(var_dir, key), "the test must see the key before it is forgotten"

    response = client.post(f"/persons/{person_id}/forget")

    assert response.status_code == 200, response.text
    assert files_holding(var_dir, key) == []
    # Later work in the same files does not bring it back (free pages, the log's old frames).
    for sequence in range(351, 381, 2):
        register(client, sequence)
    assert files_holding(var_dir, key) == []


def test_rehab_forget_leaves_no_key_bytes_either(client: TestClient, var_dir: Path) -> None:
    person_id = register(client, 231)
    key = key_of(client, person_id)

    handlers.forget_person(state_of(client).runtime.store, UUID(person_id))

    assert files_holding(var_dir, key) == []


def test_other_persons_keys_survive_a_forget(client: TestClient) -> None:
    kept = register(client, 231)
    gone = register(client, 241)
    key = key_of(client, kept)

    client.post(f"/persons/{gone}/forget")

    assert key_of(client, kept) == key
