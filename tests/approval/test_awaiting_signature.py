"""待我签字 over HTTP: ``GET /applications?awaiting_signature=me`` lists the applications with a block
waiting for the caller's own confirmation, paged like every list, and refuses what it cannot answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from services.approval.app import create_app
from tests.access.principals import Deployment, served
from tests.approval.test_api import application, community, referred
from tests.problem_json import field_error_of

COMMUNITY = "community:鸳鸯/金渝社区"
AWAITING_ME = {"awaiting_signature": "me"}


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def unguarded(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    """The approval service without access control: every block takes effect when recorded."""
    settings = ServiceSettings(
        service="approval", database_url=f"sqlite:///{tmp_path}/approval.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def guarded(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    """The approval service with access control on: blocks wait for their signatories' confirmations."""
    with served(create_app, "approval", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def handler(deployment: Deployment) -> dict[str, str]:
    """吴干事, the community's 经办人: submits and proposes 社区意见."""
    return deployment.bearer("吴干事", "approval", COMMUNITY, "handler")


def responsible(deployment: Deployment) -> dict[str, str]:
    """周书记, the community's 负责人: named in 社区意见, to confirm it."""
    return deployment.bearer("周书记", "approval", COMMUNITY, "responsible")


def proposed(client: TestClient, deployment: Deployment, serial: str) -> tuple[str, str]:
    """An application whose 社区意见 吴干事 proposed: its id and the proposal's."""
    body = application(referred(client), serial_number=serial)
    submitted = client.post("/applications", json=body, headers=handler(deployment))
    assert submitted.status_code == 201, submitted.text
    application_id = str(submitted.json()["application_id"])
    block = client.post(
        f"/applications/{application_id}/reviews", json=community(), headers=handler(deployment)
    )
    assert block.status_code == 202, block.text
    return application_id, str(block.json()["proposal_id"])


def awaiting_me(client: TestClient, headers: dict[str, str], **page: Any) -> Any:
    return client.get("/applications", params={**AWAITING_ME, **page}, headers=headers)


def test_a_proposed_block_is_listed_for_the_signatory_still_to_confirm_and_not_for_its_proposer(
    guarded: TestClient, deployment: Deployment
) -> None:
    application_id, proposal_id = proposed(guarded, deployment, "2024-021")
    confirmed_id, confirmed_proposal = proposed(guarded, deployment, "2024-022")
    confirmations = f"/applications/{confirmed_id}/reviews/community/confirmations"
    confirmed = guarded.post(
        confirmations, json={"proposal_id": confirmed_proposal}, headers=responsible(deployment)
    )
    assert confirmed.status_code == 201, confirmed.text  # confirmed: it leaves 周书记's list

    mine = awaiting_me(guarded, responsible(deployment))
    assert mine.status_code == 200, mine.text
    assert [found["application_id"] for found in mine.json()] == [application_id]
    assert mine.headers["X-Total-Count"] == "1"
    assert [block["proposal_id"] for block in mine.json()[0]["pending_sign_offs"]] == [proposal_id]
    proposer = awaiting_me(guarded, handler(deployment))
    assert (proposer.json(), proposer.headers["X-Total-Count"]) == ([], "0")


def test_only_a_signatory_holding_the_role_they_are_named_in_is_awaited(
    guarded: TestClient, deployment: Deployment
) -> None:
    proposed(guarded, deployment, "2024-023")
    named_as_handler_only = deployment.bearer("周书记", "approval", COMMUNITY, "handler")
    assert awaiting_me(guarded, named_as_handler_only).json() == []
    stranger = deployment.bearer("钱某", "approval", COMMUNITY, "responsible")
    assert awaiting_me(guarded, stranger).json() == []


def test_the_applications_awaiting_my_signature_come_a_page_at_a_time(
    guarded: TestClient, deployment: Deployment
) -> None:
    first, _ = proposed(guarded, deployment, "2024-024")
    second, _ = proposed(guarded, deployment, "2024-025")
    page = awaiting_me(guarded, responsible(deployment), limit=1)
    assert page.headers["X-Total-Count"] == "2"
    assert [found["application_id"] for found in page.json()] == [first]
    assert 'rel="next"' in page.headers["Link"] and "awaiting_signature=me" in page.headers["Link"]
    following = awaiting_me(guarded, responsible(deployment), limit=1, offset=1)
    assert [found["application_id"] for found in following.json()] == [second]


def test_an_unknown_awaiting_signature_value_is_refused_in_chinese(
    guarded: TestClient, deployment: Deployment
) -> None:
    response = guarded.get(
        "/applications", params={"awaiting_signature": "周书记"}, headers=responsible(deployment)
    )
    error = field_error_of(response, 422)
    assert error["field"] == "awaiting_signature"
    assert "me" in error["message"]


def test_without_access_control_nobody_is_me_and_the_filter_is_refused(unguarded: TestClient) -> None:
    error = field_error_of(unguarded.get("/applications", params=AWAITING_ME), 422)
    assert (error["field"], error["code"]) == ("awaiting_signature", "approval.awaiting_signature.access_off")


def test_the_filter_is_documented_in_the_openapi_description(unguarded: TestClient) -> None:
    operation = unguarded.get("/openapi.json").json()["paths"]["/applications"]["get"]
    [parameter] = [found for found in operation["parameters"] if found["name"] == "awaiting_signature"]
    assert "待我签字" in parameter["description"]
    allowed = parameter["schema"]["anyOf"][0]
    assert allowed.get("const", allowed.get("enum", [None])[0]) == "me"
