"""Sign-offs with access control on: each level's block is recorded by one of its own signatories, in a
role they hold and the level's scope; the district decision by a district 负责人; lists per street."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
import redis
from fastapi.testclient import TestClient

from services.approval.app import create_app
from tests.access.principals import Deployment, code_of, served
from tests.approval.test_api import application, approval, community, referred, stored_types, street


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def client(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "approval", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def community_handler(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("吴干事", "approval", "community:鸳鸯/金渝社区", "handler")


def street_reviewer(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("王科长", "approval", "street:鸳鸯", "reviewer")


def district_responsible(deployment: Deployment) -> dict[str, str]:
    return deployment.bearer("赵主任", "approval", "district", "responsible")


def submitted(client: TestClient, deployment: Deployment, person_id: UUID) -> str:
    response = client.post(
        "/applications", json=application(person_id), headers=community_handler(deployment)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["application_id"])


def review(client: TestClient, application_id: str, body: dict, headers: dict[str, str]):
    return client.post(f"/applications/{application_id}/reviews", json=body, headers=headers)


def test_the_three_levels_sign_in_turn_each_by_a_signatory_of_its_own(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    assert review(client, application_id, community(), community_handler(deployment)).status_code == 201
    assert review(client, application_id, street(), street_reviewer(deployment)).status_code == 201
    decided = client.post(
        f"/applications/{application_id}/decision", json=approval(), headers=district_responsible(deployment)
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["status"] == "approved"


def test_one_user_cannot_record_a_block_in_which_they_do_not_sign(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    stranger = deployment.bearer("钱某", "approval", "community:鸳鸯/金渝社区", "handler", "responsible")
    response = review(client, application_id, community(), stranger)
    assert response.status_code == 403
    assert code_of(response) == "access.signatory"


def test_a_user_named_in_a_role_they_do_not_hold_cannot_sign_it(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    # 吴干事 is a handler, but the block names them as 负责人.
    body = community(signatories={"responsible": "吴干事", "handler": "另一位干事"})
    assert code_of(review(client, application_id, body, community_handler(deployment))) == "access.signatory"


def test_a_level_is_signed_only_from_its_own_scope(client: TestClient, deployment: Deployment) -> None:
    application_id = submitted(client, deployment, referred(client))
    street_handler = deployment.bearer("吴干事", "approval", "street:鸳鸯", "handler")
    assert code_of(review(client, application_id, community(), street_handler)) == "access.review_level"
    other_street = deployment.bearer("吴干事", "approval", "community:人和/人和社区", "handler")
    assert code_of(review(client, application_id, community(), other_street)) == "access.other_street"


def test_the_district_decision_needs_a_district_responsible_named_as_such(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    review(client, application_id, community(), community_handler(deployment))
    review(client, application_id, street(), street_reviewer(deployment))
    before = stored_types(client)
    handler = deployment.bearer("孙干事", "approval", "district", "handler")
    path = f"/applications/{application_id}/decision"
    assert code_of(client.post(path, json=approval(), headers=handler)) == "access.signatory"
    street_chief = deployment.bearer("赵主任", "approval", "street:鸳鸯", "responsible")
    assert code_of(client.post(path, json=approval(), headers=street_chief)) == "access.district_only"
    assert stored_types(client) == before


def test_street_staff_see_and_list_only_their_streets_applications(
    client: TestClient, deployment: Deployment
) -> None:
    application_id = submitted(client, deployment, referred(client))
    renhe = deployment.bearer("人和干事", "approval", "street:人和", "handler")
    assert code_of(client.get(f"/applications/{application_id}", headers=renhe)) == "access.other_street"
    assert client.get("/applications", headers=renhe).json() == []
    assert code_of(client.get("/applications/overdue?street=鸳鸯", headers=renhe)) == "access.other_street"
    assert client.get("/applications/overdue", headers=renhe).status_code == 200
    yuanyang = street_reviewer(deployment)
    assert [view["application_id"] for view in client.get("/applications", headers=yuanyang).json()] == [
        application_id
    ]


def test_an_auditor_reads_applications_but_signs_nothing(client: TestClient, deployment: Deployment) -> None:
    application_id = submitted(client, deployment, referred(client))
    auditor = deployment.auditor()
    assert client.get(f"/applications/{application_id}", headers=auditor).status_code == 200
    assert code_of(review(client, application_id, community(), auditor)) == "access.read_only"
