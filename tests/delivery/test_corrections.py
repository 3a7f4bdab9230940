"""A kept 康复服务记录 is corrected 更正 by the institution that recorded it: the whole corrected record
with a reason, checked as a new record, published as a second ``delivery.service_delivered`` of the same
``delivery_id`` (ADR 0006), and shown as corrected (when, by whom, why)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope

from tests.access.principals import Deployment, code_of
from tests.delivery.test_api import approved, client, consume, runtime, service
from tests.delivery.test_refused_records import deployment, guarded
from tests.problem_json import field_error_of, problem_of

__all__ = ["client", "deployment", "guarded"]

REASON = "发票总额录入有误，应为1,200.00元"


def recorded(
    client: TestClient, headers: dict[str, str] | None = None
) -> tuple[EventEnvelope, dict[str, Any]]:
    approval = approved()
    consume(client, approval)
    answer = client.post("/deliveries", json=service(approval), headers=headers)
    assert answer.status_code == 201, answer.text
    return approval, answer.json()


def corrections(record: dict[str, Any]) -> str:
    return f"/deliveries/{record['delivery_id']}/corrections"


def test_a_corrected_charge_is_published_under_the_same_record_and_shown_as_corrected(
    client: TestClient,
) -> None:
    approval, record = recorded(client)

    answer = client.post(corrections(record), json={**service(approval, charge_fen=120000), "reason": REASON})

    assert answer.status_code == 200, answer.text
    corrected = answer.json()
    assert corrected["delivery_id"] == record["delivery_id"]
    assert (corrected["charge_fen"], corrected["insurance_paid_fen"], corrected["remaining_fen"]) == (
        120000,
        30000,
        90000,
    )
    [correction] = corrected["corrections"]
    assert correction["reason"] == REASON and correction["corrected_by"] is None
    assert client.get(f"/deliveries/{record['delivery_id']}").json() == corrected
    listed = client.get("/deliveries", params={"application_id": approval.payload["application_id"]}).json()
    assert listed == [corrected]
    first, second = (stored.envelope for stored in runtime(client).store.read())
    assert first.stream_id == second.stream_id == f"delivery-{record['delivery_id']}"
    assert (first.version, second.version) == (1, 2)
    assert second.event_type == "delivery.service_delivered"
    assert second.payload["delivery_id"] == record["delivery_id"]
    assert (first.payload["charge_fen"], second.payload["charge_fen"]) == (150000, 120000)
    assert second.causation_id == first.event_id
    assert str(second.event_id) == correction["event_id"]
    assert "reason" not in second.payload  # the clerk's free text stays in the delivery service


def test_a_period_moved_within_its_own_dates_does_not_overlap_itself(client: TestClient) -> None:
    approval, record = recorded(client)
    moved = service(approval, period_start="2024-11-11", period_end="2024-12-27", signed_on="2024-12-27")

    answer = client.post(corrections(record), json={**moved, "reason": "服务周期填错"})

    assert answer.status_code == 200, answer.text
    assert (answer.json()["period_start"], answer.json()["period_end"]) == ("2024-11-11", "2024-12-27")


def test_a_correction_is_checked_as_a_new_record_and_refused_at_the_field(client: TestClient) -> None:
    approval, record = recorded(client)
    later = service(approval, period_start="2024-12-23", period_end="2024-12-27", signed_on="2024-12-27")
    assert client.post("/deliveries", json=later).status_code == 201

    above = client.post(
        corrections(record), json={**service(approval, insurance_paid_fen=160000), "reason": REASON}
    )
    overlapping = client.post(
        corrections(record),
        json={**service(approval, period_end="2024-12-24", signed_on="2024-12-24"), "reason": REASON},
    )

    assert field_error_of(above, 422)["code"] == "delivery.insurance_paid_fen.above_charge"
    error = field_error_of(overlapping, 409)
    assert (error["code"], error["field"]) == ("delivery.period_start.overlaps", "period_start")
    assert client.get(f"/deliveries/{record['delivery_id']}").json() == record
    assert len(runtime(client).store.read()) == 2


def test_the_person_application_institution_and_item_stay_as_recorded(client: TestClient) -> None:
    approval, record = recorded(client)

    for field, value in (
        ("item", "cataract_surgery"),
        ("person_id", str(uuid4())),
        ("application_id", str(uuid4())),
        ("institution_id", "cq-aier-eye"),
    ):
        answer = client.post(
            corrections(record), json={**service(approval, **{field: value}), "reason": REASON}
        )
        error = field_error_of(answer, 422)
        assert (error["field"], error["code"]) == (field, f"delivery.correction.{field}_changed")
        assert "更正不能改变" in error["message"]


def test_a_correction_changing_nothing_or_without_a_reason_is_refused(client: TestClient) -> None:
    approval, record = recorded(client)

    same = client.post(corrections(record), json={**service(approval), "reason": REASON})
    no_reason = client.post(corrections(record), json=service(approval, charge_fen=120000))

    unchanged = problem_of(same, 422)
    assert unchanged["code"] == "delivery.correction.unchanged" and "完全相同" in unchanged["detail"]
    assert field_error_of(no_reason, 422)["field"] == "reason"
    assert len(runtime(client).store.read()) == 1


def test_an_unknown_record_cannot_be_corrected(client: TestClient) -> None:
    approval, _record = recorded(client)
    answer = client.post(f"/deliveries/{uuid4()}/corrections", json={**service(approval), "reason": REASON})
    assert field_error_of(answer, 404)["code"] == "delivery.record.not_found"


def test_the_same_correction_sent_again_with_its_key_is_published_once(client: TestClient) -> None:
    approval, record = recorded(client)
    key = {"Idempotency-Key": "correction-form-1"}
    body = {**service(approval, charge_fen=120000), "reason": REASON}

    first = client.post(corrections(record), json=body, headers=key)
    again = client.post(corrections(record), json=body, headers=key)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(runtime(client).store.read()) == 2


def test_only_the_institution_that_recorded_it_corrects_it_and_is_named(
    guarded: TestClient, deployment: Deployment
) -> None:
    therapist = deployment.bearer("刘康复师", "delivery", "institution:cqmu-second")
    approval, record = recorded(guarded, therapist)
    elsewhere = deployment.bearer("爱尔眼科", "delivery", "institution:cq-aier-eye")
    body = {**service(approval, charge_fen=120000), "reason": REASON}

    not_theirs = guarded.post(corrections(record), json=body, headers=elsewhere)
    own = guarded.post(corrections(record), json=body, headers=therapist)

    assert not_theirs.status_code == 403 and code_of(not_theirs) == "access.other_institution"
    assert own.status_code == 200, own.text
    assert own.json()["corrections"][0]["corrected_by"] == "刘康复师"
