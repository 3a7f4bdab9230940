"""The survey service with access control on: street staff see and register only their street's persons,
every read of a person is audited, auditors only read, and other agencies are refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from fastapi.testclient import TestClient

from services.survey.app import create_app
from tests.access.principals import Deployment, audit_entries, code_of, served
from tests.survey.people import make_id, person_body


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "survey", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def clerk(deployment: Deployment, street: str = "鸳鸯") -> dict[str, str]:
    return deployment.bearer(f"{street}干事", "survey", f"street:{street}")


def resident(street: str, sequence: str, community: str = "金渝社区") -> dict[str, object]:
    id_number = make_id(date(1958, 4, 12), sequence)
    return person_body(
        street=street, community=community, id_number=id_number, certificate_number=id_number + "12"
    )


def register(client: TestClient, headers: dict[str, str], body: dict[str, object]) -> str:
    response = client.post("/persons", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def event_count(client: TestClient) -> int:
    return int(client.get("/health").json()["events"]["stored"])


def test_without_a_token_every_api_call_is_a_401_but_health_answers(client: TestClient) -> None:
    assert code_of(client.get("/persons")) == "access.unauthenticated"
    assert client.get("/health").status_code == 200


def test_a_street_clerk_registers_persons_of_their_street_only(
    client: TestClient, deployment: Deployment
) -> None:
    register(client, clerk(deployment), resident("鸳鸯", "231"))
    before = event_count(client)
    refused = client.post("/persons", json=resident("人和", "251"), headers=clerk(deployment))
    assert refused.status_code == 403
    assert code_of(refused) == "access.other_street"
    assert event_count(client) == before


def test_a_street_clerk_neither_sees_nor_surveys_another_streets_person(
    client: TestClient, deployment: Deployment
) -> None:
    district = deployment.bearer("区干事", "survey", "district")
    renhe = register(client, district, resident("人和", "251"))
    yuanyang = clerk(deployment)
    assert code_of(client.get(f"/persons/{renhe}", headers=yuanyang)) == "access.other_street"
    assert code_of(client.get(f"/persons/{renhe}/handbook", headers=yuanyang)) == "access.other_street"
    survey = {
        "survey_year": 2024,
        "surveyed_on": "2024-10-15",
        "has_needs": False,
        "needed_items": [],
        "home_visit_required": False,
        "surveyor": "张丽",
    }
    assert client.post(f"/persons/{renhe}/surveys", json=survey, headers=yuanyang).status_code == 403
    correction = {"phone": "13800138001", "reason": "电话变更"}
    assert client.post(f"/persons/{renhe}/corrections", json=correction, headers=yuanyang).status_code == 403
    assert client.get(f"/persons/{renhe}", headers=district).status_code == 200


def test_lists_show_only_the_callers_street_and_asking_for_another_is_refused(
    client: TestClient, deployment: Deployment
) -> None:
    district = deployment.bearer("区干事", "survey", "district")
    register(client, district, resident("鸳鸯", "231"))
    register(client, district, resident("人和", "251"))
    listed = client.get("/persons", headers=clerk(deployment)).json()["items"]
    assert [item["street"] for item in listed] == ["鸳鸯"]
    assert client.get("/persons", headers=district).json()["total"] == 2
    assert code_of(client.get("/persons?street=人和", headers=clerk(deployment))) == "access.other_street"
    assert code_of(client.get("/surveys?street=人和", headers=clerk(deployment))) == "access.other_street"


def test_community_staff_see_only_their_community(client: TestClient, deployment: Deployment) -> None:
    district = deployment.bearer("区干事", "survey", "district")
    register(client, district, resident("鸳鸯", "231", community="金渝社区"))
    other = register(client, district, resident("鸳鸯", "251", community="鸳鸯社区"))
    coordinator = deployment.bearer("协调员", "survey", "community:鸳鸯/金渝社区")
    listed = client.get("/persons", headers=coordinator).json()["items"]
    assert [item["community"] for item in listed] == ["金渝社区"]
    assert code_of(client.get(f"/persons/{other}", headers=coordinator)) == "access.other_community"


def test_an_id_number_registered_in_another_street_is_refused_without_naming_who_or_where(
    client: TestClient, deployment: Deployment
) -> None:
    district = deployment.bearer("区干事", "survey", "district")
    renhe_body = resident("人和", "251")
    renhe = register(client, district, renhe_body)
    same_person_in_yuanyang = {**renhe_body, "street": "鸳鸯"}
    refused = client.post("/persons", json=same_person_in_yuanyang, headers=clerk(deployment))
    assert refused.status_code == 409, refused.text
    assert code_of(refused) == "survey.id_number.already_registered"
    assert renhe not in refused.text and "人和" not in refused.text
    assert "不在你的辖区" in refused.text
    # The same ID number given to a person of the clerk's street by a correction: refused alike.
    own = register(client, clerk(deployment), resident("鸳鸯", "231"))
    taken = {name: renhe_body[name] for name in ("id_number", "certificate_number")}
    correction = {**taken, "reason": "身份证号录入错误"}
    refused = client.post(f"/persons/{own}/corrections", json=correction, headers=clerk(deployment))
    assert refused.status_code == 409, refused.text
    assert renhe not in refused.text and "人和" not in refused.text
    # The district, which sees every street, is told who holds it.
    again = client.post("/persons", json=renhe_body, headers=district)
    assert again.status_code == 409 and renhe in again.text


def test_a_correction_cannot_move_a_person_out_of_the_clerks_street(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, clerk(deployment), resident("鸳鸯", "231"))
    moved = {"street": "人和", "community": "人和社区", "reason": "迁居"}
    response = client.post(f"/persons/{person}/corrections", json=moved, headers=clerk(deployment))
    assert code_of(response) == "access.other_street"


def test_every_read_of_a_person_is_audited_with_who_and_why(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, clerk(deployment), resident("鸳鸯", "231"))
    purpose = {"X-Purpose": quote("入户核查")}
    assert client.get(f"/persons/{person}", headers={**clerk(deployment), **purpose}).status_code == 200
    assert client.get(f"/persons/{person}/handbook", headers=clerk(deployment)).status_code == 200
    entries = audit_entries(client, subject=person)
    assert [(entry.user, entry.action, entry.purpose) for entry in entries] == [
        ("鸳鸯干事", f"GET /persons/{person}", "入户核查"),
        ("鸳鸯干事", f"GET /persons/{person}/handbook", "未说明"),
    ]


def test_a_refused_read_of_another_streets_person_is_not_audited(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, deployment.bearer("区干事", "survey", "district"), resident("人和", "251"))
    client.get(f"/persons/{person}", headers=clerk(deployment))
    assert audit_entries(client, subject=person) == []


def test_an_auditor_reads_every_street_but_registers_nothing(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, clerk(deployment), resident("鸳鸯", "231"))
    auditor = deployment.auditor()
    assert client.get(f"/persons/{person}", headers=auditor).status_code == 200
    assert (
        code_of(client.post("/persons", json=resident("鸳鸯", "251"), headers=auditor)) == "access.read_only"
    )


def test_a_user_of_another_agency_is_refused(client: TestClient, deployment: Deployment) -> None:
    assessor = deployment.bearer("陈医生", "assessment", "district")
    assert code_of(client.get("/persons", headers=assessor)) == "access.wrong_agency"


def test_a_street_clerk_imports_only_their_own_streets_survey_sheet(
    client: TestClient, deployment: Deployment
) -> None:
    from tests.survey.sheets import csv_bytes, four_people

    form = {"street": "人和", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
    before = event_count(client)
    refused = client.post(
        "/imports/surveys",
        data=form,
        files={"file": ("人和街道2024.csv", csv_bytes(four_people()), "text/csv")},
        headers=clerk(deployment, "鸳鸯"),
    )
    assert refused.status_code == 403
    assert code_of(refused) == "access.other_street"
    assert event_count(client) == before


def test_idempotency_keys_belong_to_their_user_so_another_users_same_key_neither_replays_nor_collides(
    client: TestClient, deployment: Deployment
) -> None:
    first = {**clerk(deployment), "Idempotency-Key": "register-1"}
    other_clerk = deployment.bearer("鸳鸯另一干事", "survey", "street:鸳鸯")
    colleague = {**other_clerk, "Idempotency-Key": "register-1"}
    original = client.post("/persons", json=resident("鸳鸯", "231"), headers=first)
    retried = client.post("/persons", json=resident("鸳鸯", "231"), headers=first)
    other = client.post("/persons", json=resident("鸳鸯", "241"), headers=colleague)

    assert original.status_code == retried.status_code == other.status_code == 201
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert other.headers.get("Idempotent-Replayed") is None
    assert other.json()["person_id"] != original.json()["person_id"]
