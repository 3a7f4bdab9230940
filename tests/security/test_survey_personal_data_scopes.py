"""Forgetting a person and releasing their data key stay within the caller's street (issue 14, defects 1
and 4): a street's 负责人 forgets only their street's persons, and a key leaves only for persons the
caller's scope covers (district: all; a street or community: its persons; an institution: none)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

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


def resident(street: str, sequence: str, community: str = "金渝社区") -> dict[str, object]:
    id_number = make_id(date(1958, 4, 12), sequence)
    return person_body(
        street=street, community=community, id_number=id_number, certificate_number=id_number + "12"
    )


def register(client: TestClient, deployment: Deployment, street: str, sequence: str, **extra: str) -> str:
    district = deployment.bearer("区干事", "survey", "district")
    response = client.post("/persons", json=resident(street, sequence, **extra), headers=district)
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


def forgotten(client: TestClient, deployment: Deployment, person_id: str) -> bool:
    district = deployment.bearer("区干事", "survey", "district")
    return bool(client.get(f"/persons/{person_id}", headers=district).json()["forgotten"])


# -- defect 1: forgetting ------------------------------------------------------------------------------
def test_a_streets_responsible_cannot_forget_a_person_of_another_street(
    client: TestClient, deployment: Deployment
) -> None:
    renhe = register(client, deployment, "人和", "251", community="人和社区")
    yuanyang_head = deployment.bearer("鸳鸯负责人", "survey", "street:鸳鸯", "responsible")

    refused = client.post(f"/persons/{renhe}/forget", headers=yuanyang_head)

    assert refused.status_code == 403
    assert code_of(refused) == "access.other_street"
    assert not forgotten(client, deployment, renhe)
    renhe_head = deployment.bearer("人和负责人", "survey", "street:人和", "responsible")
    assert client.post(f"/persons/{renhe}/forget", headers=renhe_head).status_code == 200
    assert forgotten(client, deployment, renhe)


def test_a_communitys_responsible_cannot_forget_a_person_of_another_community_of_the_street(
    client: TestClient, deployment: Deployment
) -> None:
    other = register(client, deployment, "鸳鸯", "251", community="鸳鸯社区")
    head = deployment.bearer("金渝负责人", "survey", "community:鸳鸯/金渝社区", "responsible")

    refused = client.post(f"/persons/{other}/forget", headers=head)

    assert refused.status_code == 403 and code_of(refused) == "access.other_community"
    assert not forgotten(client, deployment, other)


def test_an_institution_scoped_responsible_of_the_survey_agency_forgets_no_one(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, deployment, "鸳鸯", "231")
    head = deployment.bearer("机构负责人", "survey", "institution:lj-first-hospital", "responsible")

    refused = client.post(f"/persons/{person}/forget", headers=head)

    assert refused.status_code == 403 and code_of(refused) == "access.scope_not_applicable"
    assert not forgotten(client, deployment, person)


# -- defect 4: key release -----------------------------------------------------------------------------
def test_a_settlement_user_of_one_street_gets_the_keys_of_that_streets_persons_only(
    client: TestClient, deployment: Deployment
) -> None:
    yuanyang = register(client, deployment, "鸳鸯", "231")
    renhe = register(client, deployment, "人和", "251", community="人和社区")
    renhe_user = deployment.bearer("人和结算", "settlement", "street:人和")

    own = client.get(f"/persons/{renhe}/data-key", headers=renhe_user)
    other = client.get(f"/persons/{yuanyang}/data-key", headers=renhe_user)

    assert own.status_code == 200, own.text
    assert other.status_code == 403 and code_of(other) == "access.other_street"
    assert "key" not in other.json()
    audited = [entry.subject for entry in audit_entries(client) if entry.action.endswith("/data-key")]
    assert audited == [renhe]


def test_a_settlement_user_of_one_community_gets_no_key_of_another_community(
    client: TestClient, deployment: Deployment
) -> None:
    other = register(client, deployment, "鸳鸯", "251", community="鸳鸯社区")
    user = deployment.bearer("金渝结算", "settlement", "community:鸳鸯/金渝社区")

    refused = client.get(f"/persons/{other}/data-key", headers=user)

    assert refused.status_code == 403 and code_of(refused) == "access.other_community"


def test_a_settlement_user_scoped_to_an_institution_gets_no_key_and_is_told_why(
    client: TestClient, deployment: Deployment
) -> None:
    person = register(client, deployment, "鸳鸯", "231")
    user = deployment.bearer("机构结算", "settlement", "institution:lj-first-hospital")

    single = client.get(f"/persons/{person}/data-key", headers=user)
    batch = client.post("/persons/data-keys:batch", json={"person_ids": [person]}, headers=user)

    for refused in (single, batch):
        assert refused.status_code == 403 and code_of(refused) == "access.scope_not_applicable"
        assert "机构" in refused.json()["detail"]
    assert [entry for entry in audit_entries(client) if "data-key" in entry.action] == []


def test_a_batch_asking_for_a_person_outside_the_callers_street_releases_nothing(
    client: TestClient, deployment: Deployment
) -> None:
    yuanyang = register(client, deployment, "鸳鸯", "231")
    renhe = register(client, deployment, "人和", "251", community="人和社区")
    renhe_user = deployment.bearer("人和结算", "settlement", "street:人和")

    refused = client.post(
        "/persons/data-keys:batch", json={"person_ids": [renhe, yuanyang]}, headers=renhe_user
    )
    own = client.post("/persons/data-keys:batch", json={"person_ids": [renhe]}, headers=renhe_user)

    assert refused.status_code == 403 and code_of(refused) == "access.other_street"
    assert "keys" not in refused.json()
    assert own.status_code == 200, own.text
    assert [key["person_id"] for key in own.json()["keys"]] == [renhe]
    audited = [entry.subject for entry in audit_entries(client) if "data-keys" in entry.action]
    assert audited == [renhe]


def test_a_district_settlement_user_still_gets_every_streets_keys(
    client: TestClient, deployment: Deployment
) -> None:
    yuanyang = register(client, deployment, "鸳鸯", "231")
    renhe = register(client, deployment, "人和", "251", community="人和社区")
    district = deployment.bearer("区结算", "settlement", "district")

    batch = client.post("/persons/data-keys:batch", json={"person_ids": [yuanyang, renhe]}, headers=district)

    assert batch.status_code == 200, batch.text
    assert [key["person_id"] for key in batch.json()["keys"]] == [yuanyang, renhe]
    assert client.get(f"/persons/{renhe}/data-key", headers=district).status_code == 200
