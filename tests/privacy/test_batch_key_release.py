"""The registry releases many persons' data keys in one request (POST /persons/data-keys:batch), with the
single route's entitlement checks and one audit entry per released key (the survey app, real Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from kernel.access.auth import AUDIT, Agency, Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.runtime import ServiceSettings
from services.survey.app import create_app
from services.survey.key_release import MAX_PERSONS_PER_RELEASE
from services.survey.privacy import KeyRelease
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.survey.people import make_id, person_body
from tests.survey.test_personal_data import store_v1_person

TOKEN_KEY = Ed25519PrivateKey.generate()
BATCH = "/persons/data-keys:batch"


def token(agency: Agency) -> dict[str, str]:
    principal = Principal(f"{agency}-user", agency, frozenset({Role.STAFF}), Scope("district"))
    issued = TokenIssuer(TOKEN_KEY).issue(principal, now=datetime.now(UTC), token_id=str(uuid4()))
    return {"Authorization": f"Bearer {issued}"}


@pytest.fixture
def client(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    release = KeyRelease(TokenVerifier((TOKEN_KEY.public_key(),)))
    with TestClient(create_app(settings, key_release=release)) as test_client:
        yield test_client


def register(client: TestClient, serial: int, headers: dict[str, str] | None = None) -> str:
    id_number = make_id(date(1958, 4, 12), f"{serial:03d}")
    body = person_body(id_number=id_number, certificate_number=f"{id_number}12")
    response = client.post("/persons", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def test_one_request_releases_each_key_the_single_route_releases_and_sorts_the_rest(
    client: TestClient,
) -> None:
    first, second, forgotten = (register(client, serial) for serial in (231, 233, 235))
    assert client.post(f"/persons/{forgotten}/forget").status_code == 200
    legacy, unknown = store_v1_person(client), str(uuid4())
    asked = [second, unknown, forgotten, first, legacy, second]

    response = client.post(BATCH, json={"person_ids": asked}, headers=token("settlement"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert [released["person_id"] for released in body["keys"]] == [second, first]
    for released in body["keys"]:
        single = client.get(f"/persons/{released['person_id']}/data-key", headers=token("settlement"))
        assert single.status_code == 200 and single.json() == released
    assert (body["forgotten"], body["without_key"], body["unknown"]) == ([forgotten], [legacy], [unknown])


def test_an_agency_not_entitled_or_a_caller_without_a_valid_token_gets_no_key(client: TestClient) -> None:
    person_id = register(client, 231)
    for agency in ("assessment", "delivery", "survey", AUDIT):
        refused = client.post(BATCH, json={"person_ids": [person_id]}, headers=token(agency))
        assert refused.status_code == 403 and code_of(refused) == "survey.data_key.not_entitled"
        assert "keys" not in refused.json()
    for headers in ({}, {"Authorization": "Basic abc"}):
        anonymous = client.post(BATCH, json={"person_ids": [person_id]}, headers=headers)
        assert anonymous.status_code == 401 and code_of(anonymous) == "access.unauthenticated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "person_ids"),
        ({"person_ids": []}, "person_ids"),
        ({"person_ids": "6f1c2a9e-4b7d-4c1e-9a55-2d8f0e3b7c41"}, "person_ids"),
        ({"person_ids": [str(uuid4()), "张三"]}, "person_ids.1"),
        ({"person_ids": [str(uuid4()) for _ in range(MAX_PERSONS_PER_RELEASE + 1)]}, "person_ids"),
        ({"person_ids": [str(uuid4())], "purpose": "附件3"}, "purpose"),
    ],
    ids=["missing", "empty", "not a list", "not an id", "too many", "unknown field"],
)
def test_a_bad_body_is_a_422_naming_the_field(client: TestClient, body: object, field: str) -> None:
    response = client.post(BATCH, json=body, headers=token("settlement"))

    assert response.status_code == 422 and code_of(response) == "request.invalid"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_body_that_is_not_json_is_a_422_not_a_stack_trace(client: TestClient) -> None:
    headers = token("settlement") | {"Content-Type": "application/json"}
    response = client.post(BATCH, content=b"{person_ids: [", headers=headers)
    assert response.status_code == 422 and code_of(response) == "request.invalid"


def test_the_most_persons_one_request_may_name_are_all_answered(client: TestClient) -> None:
    person_id = register(client, 231)
    asked = [person_id] + [str(uuid4()) for _ in range(MAX_PERSONS_PER_RELEASE - 1)]

    response = client.post(BATCH, json={"person_ids": asked}, headers=token("settlement"))

    assert response.status_code == 200, response.text
    assert (
        len(response.json()["keys"]) == 1 and len(response.json()["unknown"]) == MAX_PERSONS_PER_RELEASE - 1
    )


def test_an_idempotency_key_is_refused_so_no_released_key_is_kept_in_the_store(
    client: TestClient, tmp_path: Path
) -> None:
    person_id = register(client, 231)
    headers = token("settlement") | {"Idempotency-Key": "annual-summary-2024"}

    refused = client.post(BATCH, json={"person_ids": [person_id]}, headers=headers)
    released = client.post(BATCH, json={"person_ids": [person_id]}, headers=token("settlement"))

    assert refused.status_code == 422 and code_of(refused) == "survey.data_key.idempotency_key"
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    secret = released.json()["keys"][0]["key"].encode()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("survey.db*"))
    assert secret not in stored


def test_no_key_leaves_a_registry_running_without_access_control(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_ACCESS_DIR", raising=False)
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/s.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as open_client:
        person_id = register(open_client, 231)
        response = open_client.post(BATCH, json={"person_ids": [person_id]}, headers=token("settlement"))
    assert response.status_code == 403 and code_of(response) == "survey.data_key.release_off"


def test_with_access_control_on_each_released_key_is_audited_once_with_the_callers_purpose(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    deployment = Deployment(tmp_path / "access")
    head = deployment.bearer("鸳鸯负责人", "survey", "street:鸳鸯", "responsible")
    settlement = deployment.bearer("结算", "settlement", "district") | {"X-Purpose": "%E9%99%84%E4%BB%B63"}
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as client:
        first, second, forgotten = (register(client, serial, head) for serial in (231, 233, 235))
        client.post(f"/persons/{forgotten}/forget", headers=head)
        asked = {"person_ids": [first, second, forgotten, str(uuid4())]}

        released = client.post(BATCH, json=asked, headers=settlement)
        refused = client.post(BATCH, json=asked, headers=deployment.bearer("评估", "assessment", "district"))
        single = client.get(f"/persons/{first}/data-key", headers=settlement)
        audited = [entry for entry in audit_entries(client) if "data-key" in entry.action]

    assert released.status_code == 200 and len(released.json()["keys"]) == 2
    assert refused.status_code == 403 and single.status_code == 200
    assert [(entry.subject, entry.agency, entry.user, entry.purpose, entry.status) for entry in audited] == [
        (first, "settlement", "结算", "附件3", 200),
        (second, "settlement", "结算", "附件3", 200),
        (first, "settlement", "结算", "附件3", 200),
    ]
    assert [entry.action for entry in audited] == [f"POST {BATCH}"] * 2 + [f"GET /persons/{first}/data-key"]
