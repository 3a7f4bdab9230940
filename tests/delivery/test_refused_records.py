"""被退回的服务记录 over HTTP: a service record a rule refuses is answered with the reason and kept with it
(as sent, when, by whom) for the institution to correct and resend; a retry with the same key keeps
nothing twice; a malformed body is not kept; each institution lists only its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient

from services.delivery.app import create_app
from tests.access.principals import Deployment, code_of, served
from tests.delivery.test_api import approved, client, consume, runtime, service
from tests.problem_json import field_error_of

__all__ = ["client"]
REFUSED = "/deliveries/refused"


def test_a_record_refused_by_a_rule_is_kept_as_sent_with_its_reason(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    sent = service(approval, item="cataract_surgery")

    answer = client.post("/deliveries", json=sent)

    error = field_error_of(answer, 409)
    assert (error["field"], error["code"]) == ("item", "delivery.item.not_on_approval")
    listed = client.get(REFUSED)
    assert listed.headers["X-Total-Count"] == "1"
    [refused] = listed.json()
    assert refused["record"] == sent
    assert (refused["status"], refused["code"], refused["field"]) == (
        409,
        "delivery.item.not_on_approval",
        "item",
    )
    assert refused["reason"] == error["message"] and "没有批准" in refused["reason"]
    assert refused["refused_at"] and refused["refused_by"] is None  # no access control: nobody to name
    assert runtime(client).store.read() == []  # not an event: nothing happened to the person
    assert client.get(f"{REFUSED}/{refused['refusal_id']}").json() == refused


def test_a_refused_command_sent_again_with_its_key_gets_the_same_refusal_and_is_kept_once(
    client: TestClient,
) -> None:
    approval = approved()
    consume(client, approval)
    sent = service(approval, signed_on="2024-12-01")  # signed before the period ended
    key = {"Idempotency-Key": "record-form-1"}

    first = client.post("/deliveries", json=sent, headers=key)
    again = client.post("/deliveries", json=sent, headers=key)

    assert (first.status_code, again.status_code) == (422, 422)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert len(client.get(REFUSED).json()) == 1
    corrected = client.post(
        "/deliveries", json=service(approval), headers={"Idempotency-Key": "record-form-2"}
    )
    assert corrected.status_code == 201, corrected.text
    assert len(client.get(REFUSED).json()) == 1  # the refusal stays, for the record


def test_a_body_refused_by_validation_is_not_kept(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    malformed = service(approval, charge_fen="一千五百元")
    del malformed["staff"]
    assert client.post("/deliveries", json=malformed).status_code == 422
    assert client.get(REFUSED).json() == []


def test_refused_records_come_newest_first_a_page_at_a_time(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    for staff in ("甲", "乙", "丙"):
        assert (
            client.post(
                "/deliveries", json=service(approval, staff=staff, item="cataract_surgery")
            ).status_code
            == 409
        )
    page = client.get(REFUSED, params={"limit": 2})
    assert page.headers["X-Total-Count"] == "3" and 'rel="next"' in page.headers["Link"]
    assert [refused["record"]["staff"] for refused in page.json()] == ["丙", "乙"]
    following = client.get(REFUSED, params={"limit": 2, "offset": 2})
    assert [refused["record"]["staff"] for refused in following.json()] == ["甲"]


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "access")


@pytest.fixture
def guarded(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, deployment: Deployment
) -> Iterator[TestClient]:
    with served(create_app, "delivery", tmp_path, redis_url, deployment.folder) as test_client:
        yield test_client


def test_each_institution_lists_only_its_own_refused_records_with_who_sent_them(
    guarded: TestClient, deployment: Deployment
) -> None:
    approval = approved()
    consume(guarded, approval)
    therapist = deployment.bearer("刘康复师", "delivery", "institution:cqmu-second")
    refused = guarded.post(
        "/deliveries", json=service(approval, period_start="2024-10-01"), headers=therapist
    )
    assert refused.status_code == 422
    elsewhere = deployment.bearer("爱尔眼科", "delivery", "institution:cq-aier-eye")
    not_theirs = guarded.post("/deliveries", json=service(approval), headers=elsewhere)
    assert code_of(not_theirs) == "access.other_institution"  # refused by access control: not kept

    [own] = guarded.get(REFUSED, headers=therapist).json()
    assert (own["code"], own["refused_by"]) == ("delivery.period_start.before_approval", "刘康复师")
    assert guarded.get(REFUSED, headers=elsewhere).json() == []
    asked = guarded.get(REFUSED, params={"institution_id": "cqmu-second"}, headers=elsewhere)
    assert code_of(asked) == "access.other_institution"
    one = f"{REFUSED}/{own['refusal_id']}"
    assert code_of(guarded.get(one, headers=elsewhere)) == "access.other_institution"
    office = deployment.bearer("区残联办", "delivery", "district")
    assert len(guarded.get(REFUSED, headers=office).json()) == 1


def test_the_refused_list_and_what_is_kept_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "get" in paths[REFUSED]
    assert "not kept" in paths["/deliveries"]["post"]["description"]


def test_an_unknown_refused_record_is_not_found(client: TestClient) -> None:
    error = field_error_of(client.get(f"{REFUSED}/{uuid4()}"), 404)
    assert (error["field"], error["code"]) == ("refusal_id", "delivery.refused.not_found")
