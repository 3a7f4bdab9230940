"""A refused record the institution will not resend is dismissed 撤销: it leaves 被退回的服务记录 and is kept
with when, who and why (listed with ``dismissed=true``); only its own institution may dismiss it, once."""

from __future__ import annotations

from uuid import uuid4

from fastapi.testclient import TestClient

from tests.access.principals import Deployment, code_of
from tests.delivery.test_api import approved, client, consume, service
from tests.delivery.test_refused_records import REFUSED, deployment, guarded
from tests.problem_json import field_error_of

__all__ = ["client", "deployment", "guarded"]


def refused_once(client: TestClient, headers: dict[str, str] | None = None) -> str:
    approval = approved()
    consume(client, approval)
    answer = client.post("/deliveries", json=service(approval, item="cataract_surgery"), headers=headers)
    assert answer.status_code == 409, answer.text
    [refused] = client.get(REFUSED, headers=headers).json()
    return str(refused["refusal_id"])


def test_a_dismissed_refusal_leaves_the_list_and_is_kept_with_why(client: TestClient) -> None:
    refusal_id = refused_once(client)
    answer = client.post(f"{REFUSED}/{refusal_id}/dismissal", json={"reason": "重复录入，已另行记录"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["dismissed_at"] and answer.json()["dismissal_reason"] == "重复录入，已另行记录"
    listed = client.get(REFUSED)
    assert (listed.json(), listed.headers["X-Total-Count"]) == ([], "0")
    [kept] = client.get(REFUSED, params={"dismissed": "true"}).json()
    assert kept["refusal_id"] == refusal_id and kept["dismissal_reason"] == "重复录入，已另行记录"
    assert client.get(f"{REFUSED}/{refusal_id}").json() == kept


def test_a_refusal_is_dismissed_once(client: TestClient) -> None:
    refusal_id = refused_once(client)
    assert client.post(f"{REFUSED}/{refusal_id}/dismissal", json={}).status_code == 200
    again = client.post(f"{REFUSED}/{refusal_id}/dismissal", json={})
    error = field_error_of(again, 409)
    assert (error["field"], error["code"]) == ("refusal_id", "delivery.refused.already_dismissed")


def test_the_same_dismissal_sent_again_with_its_key_gets_the_same_answer(client: TestClient) -> None:
    refusal_id = refused_once(client)
    key = {"Idempotency-Key": "dismiss-form-1"}
    first = client.post(f"{REFUSED}/{refusal_id}/dismissal", json={}, headers=key)
    again = client.post(f"{REFUSED}/{refusal_id}/dismissal", json={}, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()


def test_an_unknown_refusal_cannot_be_dismissed(client: TestClient) -> None:
    error = field_error_of(client.post(f"{REFUSED}/{uuid4()}/dismissal", json={}), 404)
    assert error["code"] == "delivery.refused.not_found"


def test_only_the_institution_that_sent_it_dismisses_it_and_is_named(
    guarded: TestClient, deployment: Deployment
) -> None:
    therapist = deployment.bearer("刘康复师", "delivery", "institution:cqmu-second")
    refusal_id = refused_once(guarded, therapist)
    elsewhere = deployment.bearer("爱尔眼科", "delivery", "institution:cq-aier-eye")
    not_theirs = guarded.post(f"{REFUSED}/{refusal_id}/dismissal", json={}, headers=elsewhere)
    assert code_of(not_theirs) == "access.other_institution"
    assert len(guarded.get(REFUSED, headers=therapist).json()) == 1
    own = guarded.post(f"{REFUSED}/{refusal_id}/dismissal", json={}, headers=therapist)
    assert own.status_code == 200 and own.json()["dismissed_by"] == "刘康复师"
