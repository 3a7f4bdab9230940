"""The approval service over HTTP, with its store, its consumer of referrals and a real Redis."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import redis
import sqlalchemy
from fastapi.testclient import TestClient
from rehab_contracts import (
    APPROVAL_STREAM,
    ASSESSMENT_STREAM,
    CatalogueItem,
    EventEnvelope,
    ReferralIssued,
    ReferralTarget,
)

from kernel.domain.clock import business_time
from kernel.domain.ids import new_event_id
from kernel.runtime import ServiceRuntime, ServiceSettings
from services.approval.app import create_app
from tests.problem_json import field_error_of
from tests.streams import entries

SERIALS = itertools.count(1)
"""序号 of the forms the tests hand in: one form's in its street and year."""
OFFICE = {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}


@pytest.fixture
def client(tmp_path: Any, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="approval", database_url=f"sqlite:///{tmp_path}/approval.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def runtime(client: TestClient) -> ServiceRuntime:
    found: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return found


def referral_envelope(
    person_id: UUID, *items: str, institution: str = "cqmu-second", version: int = 2
) -> EventEnvelope:
    payload = ReferralIssued(
        referral_id=uuid4(),
        assessment_id=uuid4(),
        person_id=person_id,
        from_institution_id="cq-assess-cqmu-second",
        to_institution_id=institution,
        to_kind=ReferralTarget.SERVICE_INSTITUTION,
        items=[CatalogueItem(item) for item in items or ("low_vision_training",)],
        issued_on=date(2024, 10, 22),
    )
    return EventEnvelope(
        event_id=new_event_id(),
        event_type=ReferralIssued.event_type,
        schema_version=ReferralIssued.schema_version,
        occurred_at=business_time(payload.issued_on),
        recorded_at=datetime.now(UTC),
        producer=ReferralIssued.producer,
        stream_id=f"assessment-{payload.assessment_id}",
        version=version,
        correlation_id=person_id,
        payload=payload.model_dump(mode="json"),
    )


def referred(client: TestClient, *items: str) -> UUID:
    """A person whose referral has reached approval (applied straight through the consumer)."""
    person_id = uuid4()
    consumer = runtime(client).consumer
    assert consumer is not None
    consumer.apply(referral_envelope(person_id, *items), ASSESSMENT_STREAM)
    return person_id


def application(person_id: UUID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": str(person_id),
        "application_year": 2024,
        "street": "鸳鸯",
        "serial_number": f"2024-{next(SERIALS):03d}",
        "requested_items": [{"item": "low_vision_training", "institution_id": "cqmu-second"}],
        "attachments": [
            "id_card_copy",
            "disability_certificate_copy",
            "household_register_copy",
            "service_handbook",
        ],
        "economic_status": "other",
        "disability_categories": ["vision"],
        "applicant_role": "person",
        "submitted_on": "2024-10-25",
    }
    return {**body, **changes}


def community(**changes: Any) -> dict[str, Any]:
    body = {
        "level": "community",
        "endorsed": True,
        "opinion": "情况属实，同意上报",
        "signatories": {"responsible": "周书记", "handler": "吴干事"},
        "reviewed_on": "2024-10-28",
    }
    return {**body, **changes}


def street(**changes: Any) -> dict[str, Any]:
    body = {
        "level": "street",
        "endorsed": True,
        "opinion": "同意",
        "signatories": {"responsible": "郑主任", "reviewer": "王科长", "handler": "冯干事"},
        "reviewed_on": "2024-10-30",
    }
    return {**body, **changes}


def approval(**changes: Any) -> dict[str, Any]:
    body = {
        "outcome": "approved",
        "approved_items": [
            {"item": "low_vision_training", "subsidy_mode": "fixed_amount", "amount_fen": 120000}
        ],
        "signatories": OFFICE,
        "decided_on": "2024-11-01",
    }
    return {**body, **changes}


def submitted(client: TestClient, person_id: UUID, **changes: Any) -> str:
    response = client.post("/applications", json=application(person_id, **changes))
    assert response.status_code == 201, response.text
    return str(response.json()["application_id"])


def endorsed(client: TestClient, person_id: UUID) -> str:
    application_id = submitted(client, person_id)
    for review in (community(), street()):
        assert client.post(f"/applications/{application_id}/reviews", json=review).status_code == 201
    return application_id


def eventually(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def stored_types(client: TestClient) -> list[str]:
    return [event.envelope.event_type for event in runtime(client).store.read()]


def stored_payloads(client: TestClient, event_type: str) -> list[dict[str, Any]]:
    return [
        event.envelope.payload
        for event in runtime(client).store.read()
        if event.envelope.event_type == event_type
    ]


def error_of(response: Any) -> dict[str, Any]:
    return field_error_of(response)


# -- referrals -------------------------------------------------------------------------------------
def test_a_referral_published_by_assessment_reaches_approval_and_backs_an_application(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = uuid4()
    # Over the stream the consumer applies an aggregate's events in version order: publish a first event.
    envelope = referral_envelope(person_id, "low_vision_training", version=1)
    redis_client.xadd(ASSESSMENT_STREAM, envelope.to_wire())  # type: ignore[arg-type]

    found = eventually(lambda: client.get("/referrals", params={"person_id": str(person_id)}).json())
    assert [referral["items"] for referral in found] == [["low_vision_training"]]

    response = client.post("/applications", json=application(person_id))
    assert response.status_code == 201, response.text
    application_id = response.json()["application_id"]
    assert response.headers["location"] == f"/applications/{application_id}"
    view = client.get(f"/applications/{application_id}").json()
    assert view["status"] == "awaiting_community_review"
    assert view["referral_id"] == envelope.payload["referral_id"]


def test_the_same_referral_delivered_twice_is_projected_once(client: TestClient) -> None:
    person_id = uuid4()
    envelope = referral_envelope(person_id)
    consumer = runtime(client).consumer
    assert consumer is not None
    assert consumer.apply(envelope, ASSESSMENT_STREAM) is True
    assert consumer.apply(envelope, ASSESSMENT_STREAM) is False
    assert len(client.get("/referrals", params={"person_id": str(person_id)}).json()) == 1


def test_an_application_before_any_referral_is_refused_because_the_assessment_comes_first(
    client: TestClient,
) -> None:
    response = client.post("/applications", json=application(uuid4()))
    assert response.status_code == 409
    assert "须先经评估机构评估并转介" in error_of(response)["message"]
    assert error_of(response)["field"] == "requested_items"
    assert stored_types(client) == []


def test_items_beyond_the_referral_are_refused_by_name(client: TestClient) -> None:
    person_id = referred(client, "low_vision_training")
    items = [
        {"item": "low_vision_training", "institution_id": "cqmu-second"},
        {"item": "cataract_surgery", "eyes": ["left"]},
    ]
    response = client.post("/applications", json=application(person_id, requested_items=items))
    assert response.status_code == 409
    assert "白内障复明手术没有 2024 年的评估转介" in error_of(response)["message"]
    assert error_of(response)["code"] == "approval.requested_items.not_referred"


def test_an_item_backed_only_by_a_referral_of_another_year_is_refused(client: TestClient) -> None:
    person_id = referred(client)
    response = client.post(
        "/applications", json=application(person_id, application_year=2025, submitted_on="2025-01-06")
    )
    error = field_error_of(response, 409)
    assert (error["field"], error["code"]) == ("requested_items", "approval.requested_items.no_referral")
    assert "2025" in error["message"]


def test_an_application_from_a_street_outside_the_jurisdiction_is_refused(client: TestClient) -> None:
    response = client.post("/applications", json=application(referred(client), street="解放碑"))
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == ("street", "approval.street.outside_jurisdiction")


# -- the form, level by level ----------------------------------------------------------------------
def test_the_form_is_reviewed_by_community_and_street_then_approved_with_a_service_card(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = referred(client)
    application_id = endorsed(client, person_id)

    response = client.post(f"/applications/{application_id}/decision", json=approval())

    assert response.status_code == 201, response.text
    assert response.json()["service_card_number"] == "LJ2024-000001"
    view = client.get(f"/applications/{application_id}").json()
    assert view["status"] == "approved"
    assert view["community_review"]["signatories"] == {
        "responsible": "周书记",
        "reviewer": None,
        "handler": "吴干事",
    }
    assert view["street_review"]["reviewed_on"] == "2024-10-30"
    assert view["decision"]["approved_items"] == [
        {
            "item": "low_vision_training",
            "institution_id": "cqmu-second",
            "subsidy_mode": "fixed_amount",
            "amount_fen": 120000,
        }
    ]
    assert stored_types(client) == [
        "approval.application_submitted",
        "approval.application_reviewed",
        "approval.application_reviewed",
        "approval.application_approved",
    ]
    published = eventually(lambda: len(entries(redis_client, APPROVAL_STREAM)) == 4)
    assert published, "the relay publishes the four events to the approval stream"


def test_service_card_numbers_run_in_sequence_within_the_year(client: TestClient) -> None:
    cards = []
    for _ in range(2):
        application_id = endorsed(client, referred(client))
        cards.append(client.post(f"/applications/{application_id}/decision", json=approval()).json())
    assert [card["service_card_number"] for card in cards] == ["LJ2024-000001", "LJ2024-000002"]


def test_an_incomplete_application_is_reviewed_only_once_its_attachments_are_added(
    client: TestClient,
) -> None:
    person_id = referred(client)
    response = client.post("/applications", json=application(person_id, attachments=["id_card_copy"]))
    assert response.status_code == 201
    assert response.json()["status"] == "incomplete"
    application_id = response.json()["application_id"]

    refused = client.post(f"/applications/{application_id}/reviews", json=community())
    assert refused.status_code == 409
    assert "申请资料不全" in error_of(refused)["message"]
    assert error_of(refused) == {
        **error_of(refused),
        "field": "attachments",
        "code": "approval.attachments.incomplete",
    }

    added = client.post(
        f"/applications/{application_id}/attachments",
        json={
            "attachments": ["disability_certificate_copy", "household_register_copy", "service_handbook"],
            "added_on": "2024-10-27",
        },
    )
    assert added.status_code == 200, added.text
    assert added.json() == {
        "application_id": application_id,
        "status": "awaiting_community_review",
        "missing_attachments": [],
        "service_card_number": None,
    }
    assert client.post(f"/applications/{application_id}/reviews", json=community()).status_code == 201
    assert client.get(f"/applications/{application_id}").json()["attachments_added_on"] == "2024-10-27"


def test_attachments_handed_in_later_are_published_as_an_event_of_the_application(
    client: TestClient, redis_client: redis.Redis
) -> None:
    person_id = referred(client)
    application_id = submitted(client, person_id, attachments=["id_card_copy", "household_register_copy"])
    added = client.post(
        f"/applications/{application_id}/attachments",
        json={"attachments": ["service_handbook", "disability_certificate_copy"], "added_on": "2024-10-27"},
    )
    assert added.status_code == 200, added.text

    assert stored_types(client) == [
        "approval.application_submitted",
        "approval.application_attachments_added",
    ]
    assert stored_payloads(client, "approval.application_attachments_added") == [
        {
            "application_id": application_id,
            "person_id": str(person_id),
            "attachments": ["disability_certificate_copy", "service_handbook"],
            "added_on": "2024-10-27",
        }
    ]
    published = eventually(lambda: len(entries(redis_client, APPROVAL_STREAM)) == 2)
    assert published, "the relay publishes the submission and the added attachments"


def test_the_submission_event_carries_the_declared_status_categories_and_certificate(
    client: TestClient,
) -> None:
    person_id = referred(client)
    submitted(client, person_id, economic_status="low_income", disability_categories=["vision", "hearing"])
    [payload] = stored_payloads(client, "approval.application_submitted")
    assert payload["economic_status"] == "low_income"
    assert payload["disability_categories"] == ["hearing", "vision"]
    assert payload["certified"] is True


def test_an_application_is_rebuilt_from_its_events_alone(
    tmp_path: Any, redis_url: str, client: TestClient
) -> None:
    person_id = referred(client)
    application_id = submitted(
        client,
        person_id,
        attachments=["id_card_copy"],
        economic_status="subsistence_allowance",
        disability_categories=["vision", "mental"],
        certified=False,
        applicant_role="guardian",
    )
    client.post(
        f"/applications/{application_id}/attachments",
        json={"attachments": ["household_register_copy"], "added_on": "2024-10-26"},
    )
    before = client.get(f"/applications/{application_id}").json()
    assert before["missing_attachments"] == ["service_handbook", "subsistence_certificate_copy"]

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/approval.db")
    with engine.connect() as connection:
        tables = set(sqlalchemy.inspect(connection).get_table_names())
    engine.dispose()
    assert not {"approval_application_declarations", "approval_attachment_additions"} & tables

    settings = ServiceSettings(
        service="approval", database_url=f"sqlite:///{tmp_path}/approval.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as restarted:
        after = restarted.get(f"/applications/{application_id}").json()
    assert after == before
    assert after["economic_status"] == "subsistence_allowance"
    assert after["disability_categories"] == ["mental", "vision"]
    assert after["certified"] is False
    assert after["attachments"] == ["household_register_copy", "id_card_copy"]
    assert after["attachments_added_on"] == "2024-10-26"


# -- who holds a certificate 持证 ------------------------------------------------------------------
def test_an_uncertified_childs_application_without_a_certificate_copy_is_complete(
    client: TestClient,
) -> None:
    attachments = ["id_card_copy", "household_register_copy", "service_handbook"]
    response = client.post(
        "/applications",
        json=application(
            referred(client), certified=False, applicant_role="guardian", attachments=attachments
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "awaiting_community_review"
    assert response.json()["missing_attachments"] == []


def test_a_certified_adults_application_without_a_certificate_copy_is_incomplete(
    client: TestClient,
) -> None:
    attachments = ["id_card_copy", "household_register_copy", "service_handbook"]
    response = client.post("/applications", json=application(referred(client), attachments=attachments))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "incomplete"
    assert response.json()["missing_attachments"] == ["disability_certificate_copy"]


def test_an_uncertified_child_attaching_a_certificate_copy_is_refused(client: TestClient) -> None:
    response = client.post("/applications", json=application(referred(client), certified=False))
    assert response.status_code == 422
    assert error_of(response)["field"] == "attachments"
    assert error_of(response)["code"] == "approval.attachments.certificate_copy_without_certificate"


def test_a_person_signing_two_roles_is_refused_naming_the_field(client: TestClient) -> None:
    application_id = submitted(client, referred(client))
    client.post(f"/applications/{application_id}/reviews", json=community())
    block = {"responsible": "郑主任", "reviewer": "王科长", "handler": "吴干事"}
    response = client.post(f"/applications/{application_id}/reviews", json=street(signatories=block))
    assert response.status_code == 422
    assert error_of(response)["field"] == "signatories.handler"
    assert error_of(response)["code"] == "approval.signatories.segregation_of_duties"
    assert "一人不能担任两个职责" in error_of(response)["message"]


def test_the_street_cannot_review_before_the_community(client: TestClient) -> None:
    application_id = submitted(client, referred(client))
    response = client.post(f"/applications/{application_id}/reviews", json=street())
    assert response.status_code == 409
    assert error_of(response) == {
        **error_of(response),
        "field": "level",
        "code": "approval.level.out_of_order",
    }


def test_an_opinion_naming_an_id_number_is_refused_and_nothing_is_recorded(client: TestClient) -> None:
    # An opinion travels in clear on the approval stream and outlives a forgotten person's key.
    application_id = submitted(client, referred(client))
    before = stored_types(client)
    opinion = community(opinion="申请人 500112199001011234 情况属实，同意上报")
    response = client.post(f"/applications/{application_id}/reviews", json=opinion)
    assert response.status_code == 422
    assert (error_of(response)["field"], error_of(response)["code"]) == (
        "opinion",
        "request.personal_data_in_clear_text",
    )
    assert stored_types(client) == before


def test_a_decision_before_both_reviews_is_refused(client: TestClient) -> None:
    application_id = submitted(client, referred(client))
    response = client.post(f"/applications/{application_id}/decision", json=approval())
    assert response.status_code == 409
    assert "区残联办须在社区和街道都同意后审批" in error_of(response)["message"]
    assert error_of(response)["code"] == "approval.level.out_of_order"


def test_a_fixed_amount_without_an_amount_is_refused(client: TestClient) -> None:
    application_id = endorsed(client, referred(client))
    items = [{"item": "low_vision_training", "subsidy_mode": "fixed_amount"}]
    response = client.post(f"/applications/{application_id}/decision", json=approval(approved_items=items))
    assert response.status_code == 422
    assert error_of(response)["field"] == "approved_items"


def test_a_rejection_needs_a_reason(client: TestClient) -> None:
    application_id = endorsed(client, referred(client))
    response = client.post(
        f"/applications/{application_id}/decision",
        json={"outcome": "rejected", "signatories": OFFICE, "decided_on": "2024-11-01"},
    )
    assert response.status_code == 422


def test_a_rejected_and_a_returned_application_are_listed_by_status(client: TestClient) -> None:
    rejected_id = endorsed(client, referred(client))
    rejection = {
        "outcome": "rejected",
        "reason": "不符合条件",
        "signatories": OFFICE,
        "decided_on": "2024-11-01",
    }
    response = client.post(f"/applications/{rejected_id}/decision", json=rejection)
    assert response.status_code == 201
    returned_id = submitted(client, referred(client), street="人和")
    client.post(
        f"/applications/{returned_id}/reviews", json=community(endorsed=False, opinion="非本社区居民")
    )

    def ids(**query: Any) -> list[str]:
        return [found["application_id"] for found in client.get("/applications", params=query).json()]

    assert ids(status="rejected") == [rejected_id]
    assert ids(status="returned") == [returned_id]
    assert ids(street="人和", year=2024) == [returned_id]
    assert ids(year=2025) == []
    assert client.get("/applications", params={"status": "lost"}).status_code == 422


def test_a_second_support_service_application_in_the_year_is_refused(client: TestClient) -> None:
    person_id = referred(client, "support_service_midlife_blind")
    items = [{"item": "support_service_midlife_blind", "institution_id": "lj-rehab-centre"}]
    submitted(client, person_id, requested_items=items)
    response = client.post("/applications", json=application(person_id, requested_items=items))
    assert response.status_code == 409
    assert "支持性服务" in error_of(response)["message"]


def test_an_unknown_application_is_not_found(client: TestClient) -> None:
    assert client.get(f"/applications/{uuid4()}").status_code == 404
    assert client.post(f"/applications/{uuid4()}/reviews", json=community()).status_code == 404


def test_without_access_control_a_block_takes_effect_at_once_and_nothing_awaits_confirmation(
    client: TestClient,
) -> None:
    application_id = submitted(client, referred(client))
    signed = client.post(f"/applications/{application_id}/reviews", json=community())
    assert signed.status_code == 201
    assert client.get(f"/applications/{application_id}").json()["pending_sign_offs"] == []
    confirmation = client.post(
        f"/applications/{application_id}/reviews/community/confirmations", json={"proposal_id": str(uuid4())}
    )
    assert (confirmation.status_code, error_of(confirmation)["code"]) == (409, "approval.sign_off.access_off")
