"""An application 附件2 is handed in by the street (and community) the applicant is registered in, as the
referral backing it carries that from the needs survey: another street's token cannot file one for them
(and so cannot block the person's own community with `already_held`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import ASSESSMENT_STREAM, EventEnvelope

from services.approval.app import create_app
from tests.access.principals import Deployment, code_of, served
from tests.approval.test_api import application, referral_envelope, runtime, stored_types
from tests.problem_json import field_error_of

YUANYANG_COMMUNITY = "community:鸳鸯/金渝社区"
RENHE_COMMUNITY = "community:人和/人和社区"


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "approval", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def registered_in(client: TestClient, street: str | None, community: str | None) -> UUID:
    """A person whose referral (carrying where they are registered, when given) reached approval."""
    person_id = uuid4()
    envelope = referral_envelope(person_id)
    payload = {**envelope.payload, "street": street, "community": community}
    consumer = runtime(client).consumer
    assert consumer is not None
    consumer.apply(EventEnvelope(**{**envelope.model_dump(), "payload": payload}), ASSESSMENT_STREAM)
    return person_id


def test_another_streets_community_cannot_apply_for_a_person_registered_elsewhere(
    client: TestClient, deployment: Deployment
) -> None:
    person_id = registered_in(client, "人和", "人和社区")
    yuanyang = deployment.bearer("吴干事", "approval", YUANYANG_COMMUNITY, "handler")
    refused = client.post("/applications", json=application(person_id, street="鸳鸯"), headers=yuanyang)
    error = field_error_of(refused, 422)
    assert (error["field"], error["code"]) == ("street", "approval.street.not_registered")
    assert "人和街道" in error["message"]
    assert stored_types(client) == []

    renhe = deployment.bearer("人和干事", "approval", RENHE_COMMUNITY, "handler")
    accepted = client.post("/applications", json=application(person_id, street="人和"), headers=renhe)
    assert accepted.status_code == 201, accepted.text


def test_another_community_of_the_same_street_cannot_apply_for_the_person(
    client: TestClient, deployment: Deployment
) -> None:
    person_id = registered_in(client, "鸳鸯", "金渝社区")
    neighbour = deployment.bearer("邻社区干事", "approval", "community:鸳鸯/鸳鸯社区", "handler")
    refused = client.post("/applications", json=application(person_id), headers=neighbour)
    assert refused.status_code == 403 and code_of(refused) == "access.other_community"
    street = deployment.bearer("冯干事", "approval", "street:鸳鸯", "handler")
    assert client.post("/applications", json=application(person_id), headers=street).status_code == 201


def test_a_referral_issued_before_referrals_carried_the_street_still_backs_the_form(
    client: TestClient, deployment: Deployment
) -> None:
    person_id = registered_in(client, None, None)
    yuanyang = deployment.bearer("吴干事", "approval", YUANYANG_COMMUNITY, "handler")
    assert client.post("/applications", json=application(person_id), headers=yuanyang).status_code == 201


def test_the_referral_list_shows_where_the_person_is_registered(
    client: TestClient, deployment: Deployment
) -> None:
    person_id = registered_in(client, "人和", "人和社区")
    district = deployment.bearer("赵主任", "approval", "district", "responsible")
    [shown] = client.get("/referrals", params={"person_id": str(person_id)}, headers=district).json()
    assert (shown["street"], shown["community"]) == ("人和", "人和社区")


def test_streets_and_communities_list_only_the_referrals_of_their_own_residents(
    client: TestClient, deployment: Deployment
) -> None:
    renhe_person = registered_in(client, "人和", "人和社区")
    jinyu_person = registered_in(client, "鸳鸯", "金渝社区")
    neighbour_person = registered_in(client, "鸳鸯", "鸳鸯社区")
    unplaced_person = registered_in(client, None, None)

    def listed(headers: dict[str, str]) -> set[str]:
        response = client.get("/referrals", headers=headers)
        assert response.status_code == 200, response.text
        assert int(response.headers["X-Total-Count"]) == len(response.json())
        return {referral["person_id"] for referral in response.json()}

    yuanyang_street = deployment.bearer("冯干事", "approval", "street:鸳鸯", "handler")
    jinyu = deployment.bearer("吴干事", "approval", YUANYANG_COMMUNITY, "handler")
    district = deployment.bearer("赵主任", "approval", "district", "responsible")
    assert listed(yuanyang_street) == {str(jinyu_person), str(neighbour_person)}
    assert listed(jinyu) == {str(jinyu_person)}
    assert listed(district) == {
        str(p) for p in (renhe_person, jinyu_person, neighbour_person, unplaced_person)
    }
    other = client.get("/referrals", params={"person_id": str(renhe_person)}, headers=jinyu)
    assert other.status_code == 200 and other.json() == []
