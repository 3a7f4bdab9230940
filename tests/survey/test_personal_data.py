"""Personal data in the registry: sealed on the wire, read back by survey, forgotten on request, keys released
only to entitled agencies (real Redis, the survey app over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from rehab_contracts import (
    SURVEY_STREAM,
    EventEnvelope,
    PersonalDetails,
    PersonRegistered,
    PersonRegisteredV2,
    parse_payload,
)
from rehab_contracts.examples import example_payload
from rehab_contracts.sealed import REDACTED, DataKey, open_sealed
from sqlalchemy import select

from kernel.access.auth import AUDIT, Agency, Principal, Role, Scope, TokenIssuer, TokenVerifier
from kernel.domain.clock import business_time
from kernel.runtime import ServiceSettings
from kernel.store.store import NewEvent
from services.survey import projection
from services.survey.app import create_app
from services.survey.keys import person_keys_table
from services.survey.privacy import KeyRelease
from services.survey.translation import domain_event
from tests.access.principals import Deployment, audit_entries, served
from tests.streams import entries
from tests.survey.people import make_id, person_body

TOKEN_KEY = Ed25519PrivateKey.generate()
NAME, PHONE, ADDRESS = "李明", "13800138000", "重庆市渝北区鸳鸯街道金渝大道88号3-2"


def token(agency: Agency, roles: frozenset[Role] = frozenset({Role.STAFF})) -> dict[str, str]:
    principal = Principal(f"{agency}-user", agency, roles, Scope("district"))
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


def register(client: TestClient, **changes: object) -> str:
    response = client.post("/persons", json=person_body(**changes))
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def published(redis_client: redis.Redis, event_type: str) -> list[dict[str, str]]:
    """The survey stream's entries of ``event_type``, waiting for the relay to publish one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [
            fields for _, fields in entries(redis_client, SURVEY_STREAM) if fields["event_type"] == event_type
        ]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {event_type} on {SURVEY_STREAM}")


def data_key(client: TestClient, person_id: str) -> DataKey:
    response = client.get(f"/persons/{person_id}/data-key", headers=token("settlement"))
    assert response.status_code == 200, response.text
    return DataKey.from_text(response.json()["key_id"], response.json()["key"])


# -- sealed on the wire, read back by the registry --------------------------------------------------------
def test_a_registered_persons_stream_entry_carries_no_name_id_number_or_phone_in_clear(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = register(client)
    [fields] = published(redis_client, "survey.person_registered")

    wire = " ".join(f"{name}={value}" for name, value in fields.items())
    for secret in (NAME, person_body()["id_number"], PHONE, ADDRESS, "1958-04-12"):
        assert secret not in wire
    assert person_id in wire and "AES-256-GCM" in wire


def test_the_registry_reads_the_sealed_details_back(client: TestClient) -> None:
    person_id = register(client)
    person = client.get(f"/persons/{person_id}").json()
    assert (person["name"], person["phone"], person["id_number"]) == (
        NAME,
        PHONE,
        person_body()["id_number"],
    )
    assert person["birth_date"] == "1958-04-12" and person["forgotten"] is False
    listed = client.get("/persons", params={"id_number": person_body()["id_number"]}).json()
    assert [item["name"] for item in listed["items"]] == [NAME]


def test_an_entitled_agency_opens_the_published_details_with_the_released_key(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = register(client)
    client.post(f"/persons/{person_id}/corrections", json={"reason": "换号", "phone": "13800138009"})
    key = data_key(client, person_id)
    [fields] = published(redis_client, "survey.person_registered")
    payload = parse_payload(EventEnvelope.from_wire(fields))
    assert isinstance(payload, PersonRegisteredV2)

    opened = open_sealed(
        payload.personal_data,
        key,
        person_id=UUID(person_id),
        event_type=payload.event_type,
        as_model=PersonalDetails,
    )
    assert (opened.name, opened.phone) == (NAME, PHONE)


# -- forgetting ---------------------------------------------------------------------------------------------
def test_a_forgotten_person_reads_redacted_everywhere_in_the_registry_and_their_key_is_gone(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = register(client)
    client.post(f"/persons/{person_id}/surveys", json=survey_body())

    response = client.post(f"/persons/{person_id}/forget")

    assert response.status_code == 200, response.text
    assert response.json()["key_id"].startswith("pdk-")
    person = client.get(f"/persons/{person_id}").json()
    assert person["forgotten"] is True and person["birth_date"] is None
    for field in ("name", "phone", "address", "id_number", "certificate_number", "ethnicity"):
        assert person[field] == REDACTED
    assert (person["street"], person["disability_grade"], person["certified"]) == ("鸳鸯", "grade_2", True)
    [listed] = client.get("/persons", params={"street": "鸳鸯"}).json()["items"]
    assert (listed["name"], listed["birth_date"]) == (REDACTED, None)
    [survey] = client.get("/surveys", params={"street": "鸳鸯"}).json()["items"]
    assert survey["name"] == REDACTED
    handbook = {
        line["label"]: line["value"] for line in client.get(f"/persons/{person_id}/handbook").json()["lines"]
    }
    assert handbook["姓名"] == REDACTED and handbook["身份证号"] == REDACTED
    assert client.get("/persons", params={"id_number": person_body()["id_number"]}).json()["total"] == 0
    with client.app.state.runtime.store.reading() as unit:  # type: ignore[attr-defined]
        assert unit.session.execute(select(person_keys_table)).all() == []
    [forgotten] = published(redis_client, "survey.person_forgotten")
    assert NAME not in str(forgotten) and person_body()["id_number"] not in str(forgotten)


def test_a_forgotten_person_can_be_neither_corrected_surveyed_nor_forgotten_again(
    client: TestClient,
) -> None:
    person_id = register(client)
    client.post(f"/persons/{person_id}/forget")

    correction = client.post(
        f"/persons/{person_id}/corrections", json={"reason": "x", "phone": "13800138009"}
    )
    survey = client.post(f"/persons/{person_id}/surveys", json=survey_body())
    again = client.post(f"/persons/{person_id}/forget")

    for response in (correction, survey, again):
        assert response.status_code == 409
        assert response.json()["code"] == "survey.person.forgotten"


def test_the_id_number_of_a_forgotten_person_may_be_registered_again_as_a_new_person(
    client: TestClient,
) -> None:
    first = register(client)
    client.post(f"/persons/{first}/forget")
    assert register(client) != first


def test_forgetting_an_unknown_person_or_asking_for_their_key_is_a_404(client: TestClient) -> None:
    forget = client.post(f"/persons/{uuid4()}/forget")
    key = client.get(f"/persons/{uuid4()}/data-key", headers=token("settlement"))
    for response in (forget, key):
        assert response.status_code == 404 and response.json()["code"] == "survey.person.not_found"


# -- key release ------------------------------------------------------------------------------------
def test_an_agency_not_entitled_gets_403_for_a_key(client: TestClient) -> None:
    person_id = register(client)
    for agency in ("assessment", "delivery", "survey", AUDIT):
        response = client.get(f"/persons/{person_id}/data-key", headers=token(agency))
        assert response.status_code == 403
        assert response.json()["code"] == "survey.data_key.not_entitled"
        assert "key" not in response.json()


def test_a_key_request_without_a_valid_token_is_a_401(client: TestClient) -> None:
    person_id = register(client)
    forged = TokenIssuer(Ed25519PrivateKey.generate()).issue(
        Principal("x", "settlement", frozenset({Role.STAFF}), Scope("district")),
        now=datetime.now(UTC),
        token_id="t",
    )
    for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": "Basic abc"}):
        response = client.get(f"/persons/{person_id}/data-key", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "access.unauthenticated"


def test_the_key_of_a_forgotten_person_is_gone_for_good(client: TestClient) -> None:
    person_id = register(client)
    client.post(f"/persons/{person_id}/forget")
    response = client.get(f"/persons/{person_id}/data-key", headers=token("settlement"))
    assert response.status_code == 410 and response.json()["code"] == "survey.data_key.destroyed"


def test_no_key_leaves_a_registry_running_without_access_control(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_ACCESS_DIR", raising=False)
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/s.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as open_client:
        person_id = register(open_client)
        response = open_client.get(f"/persons/{person_id}/data-key", headers=token("settlement"))
    assert response.status_code == 403 and response.json()["code"] == "survey.data_key.release_off"


# -- schema v1 persons (registered before sealing) --------------------------------------------------
def store_v1_person(client: TestClient) -> str:
    """A person as registered before sealing: their PersonRegistered v1 in the store, in clear."""
    person_id = uuid4()
    born = date(1958, 4, 12)
    payload = example_payload(PersonRegistered).model_copy(
        update={"person_id": person_id, "id_number": make_id(born, "235"), "certificate_number": None}
    )
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        appended = unit.append(f"person-{person_id}", 0, [NewEvent(payload, business_time(date(2024, 3, 1)))])
        projection.project(unit.session, [(appended[0], domain_event(appended[0]))])
    return str(person_id)


def test_a_person_registered_as_schema_v1_is_still_read_and_can_be_forgotten(client: TestClient) -> None:
    person_id = store_v1_person(client)
    assert client.get(f"/persons/{person_id}").json()["name"] == "李明"
    no_key = client.get(f"/persons/{person_id}/data-key", headers=token("settlement"))
    assert no_key.status_code == 404 and no_key.json()["code"] == "survey.data_key.none"

    forgotten = client.post(f"/persons/{person_id}/forget")

    assert forgotten.status_code == 200 and forgotten.json()["key_id"] is None
    person = client.get(f"/persons/{person_id}").json()
    assert person["forgotten"] is True and person["name"] == REDACTED and person["id_number"] == REDACTED


def survey_body() -> dict[str, object]:
    return {
        "survey_year": 2024,
        "surveyed_on": "2024-10-15",
        "has_needs": True,
        "needed_items": ["low_vision_training"],
        "home_visit_required": False,
        "surveyor": "张丽",
    }


# -- with the deployment's access control on ----------------------------------------------------------
def test_with_access_control_on_settlement_gets_keys_others_do_not_and_only_a_responsible_forgets(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    deployment = Deployment(tmp_path / "access")
    clerk = deployment.bearer("鸳鸯干事", "survey", "street:鸳鸯")
    head = deployment.bearer("鸳鸯负责人", "survey", "street:鸳鸯", "responsible")
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as client:
        person_id = client.post("/persons", json=person_body(), headers=clerk).json()["person_id"]
        path = f"/persons/{person_id}/data-key"

        released = client.get(path, headers=deployment.bearer("结算", "settlement", "district"))
        refused = client.get(path, headers=deployment.bearer("评估", "assessment", "district"))
        by_clerk = client.post(f"/persons/{person_id}/forget", headers=clerk)
        by_head = client.post(f"/persons/{person_id}/forget", headers=head)
        audited = [entry for entry in audit_entries(client) if entry.action.endswith("/data-key")]

    assert released.status_code == 200, released.text
    assert refused.status_code == 403 and refused.json()["code"] == "survey.data_key.not_entitled"
    assert by_clerk.status_code == 403 and by_head.status_code == 200
    assert [(entry.agency, entry.subject) for entry in audited] == [("settlement", person_id)]
