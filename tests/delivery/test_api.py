"""The delivery service over HTTP, with its store, its consumer of approvals and a real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import (
    APPROVAL_STREAM,
    DELIVERY_STREAM,
    ApplicationApproved,
    ApplicationRejected,
    EventEnvelope,
    EventPayload,
    ItemApproval,
    Signatories,
)

from kernel.domain.clock import business_time
from kernel.domain.ids import new_event_id
from kernel.runtime import ServiceRuntime, ServiceSettings
from services.delivery.app import create_app
from tests.problem_json import field_error_of
from tests.streams import entries

OFFICE = Signatories(responsible="赵主任", reviewer="钱科长", handler="孙干事")


@pytest.fixture
def client(tmp_path: Any, redis_url: str, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings = ServiceSettings(
        service="delivery", database_url=f"sqlite:///{tmp_path}/delivery.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def envelope(payload: EventPayload, day: date, version: int = 4) -> EventEnvelope:
    return EventEnvelope(
        event_id=new_event_id(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=business_time(day),
        recorded_at=datetime.now(UTC),
        producer=payload.producer,
        stream_id=f"application-{payload.application_id}",  # type: ignore[attr-defined]
        version=version,
        correlation_id=payload.person_id,  # type: ignore[attr-defined]
        payload=payload.model_dump(mode="json"),
    )


def approved(person_id: UUID | None = None, version: int = 4, **item: Any) -> EventEnvelope:
    approval = {
        "item": "low_vision_training",
        "institution_id": "cqmu-second",
        "subsidy_mode": "free",
        **item,
    }
    payload = ApplicationApproved(
        application_id=uuid4(),
        person_id=person_id or uuid4(),
        application_year=2024,
        street="鸳鸯",
        service_card_number="LJ2024-000001",
        approved_items=[ItemApproval.model_validate(approval)],
        signatories=OFFICE,
        approved_on=date(2024, 11, 1),
    )
    return envelope(payload, payload.approved_on, version)


def consume(client: TestClient, *envelopes: EventEnvelope) -> list[bool]:
    consumer = runtime(client).consumer
    assert consumer is not None
    return [consumer.apply(each, APPROVAL_STREAM) for each in envelopes]


def runtime(client: TestClient) -> ServiceRuntime:
    found: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return found


def service(approval: EventEnvelope, **changes: Any) -> dict[str, Any]:
    body = {
        "application_id": approval.payload["application_id"],
        "person_id": approval.payload["person_id"],
        "institution_id": "cqmu-second",
        "item": "low_vision_training",
        "frequency": "每周2次，每次45分钟",
        "period_start": "2024-11-04",
        "period_end": "2024-12-20",
        "staff": "刘康复师",
        "signed_by": "person",
        "signed_on": "2024-12-20",
        "charge_fen": 150000,
        "insurance_paid_fen": 30000,
    }
    return {**body, **changes}


def eventually(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def error_of(response: Any) -> dict[str, Any]:
    return field_error_of(response)


def test_an_approval_published_by_approval_becomes_an_entitlement_and_backs_a_signed_record(
    client: TestClient, redis_client: redis.Redis
) -> None:
    # Over the stream the consumer applies an aggregate's events in version order: publish a first event.
    approval = approved(version=1, amount_fen=None)
    redis_client.xadd(APPROVAL_STREAM, approval.to_wire())  # type: ignore[arg-type]
    person_id = approval.payload["person_id"]

    found = eventually(lambda: client.get("/entitlements", params={"person_id": person_id}).json())
    assert found == [
        {
            "application_id": approval.payload["application_id"],
            "person_id": person_id,
            "year": 2024,
            "service_card_number": "LJ2024-000001",
            "item": "low_vision_training",
            "institution_id": "cqmu-second",
            "subsidy_mode": "free",
            "amount_fen": None,
            "approved_on": "2024-11-01",
            "current_institution_id": "cqmu-second",
            "institution_changes": [],
        }
    ]

    response = client.post("/deliveries", json=service(approval))

    assert response.status_code == 201, response.text
    record = response.json()
    assert response.headers["location"] == f"/deliveries/{record['delivery_id']}"
    assert record["service_year"] == 2024
    assert record["remaining_fen"] == 120000
    assert client.get(f"/deliveries/{record['delivery_id']}").json() == record
    [stored] = runtime(client).store.read()
    assert stored.envelope.event_type == "delivery.service_delivered"
    assert stored.envelope.stream_id == f"delivery-{record['delivery_id']}"
    assert stored.envelope.causation_id == approval.event_id
    assert eventually(lambda: len(entries(redis_client, DELIVERY_STREAM)) == 1)


def test_the_same_approval_delivered_twice_grants_its_items_once(client: TestClient) -> None:
    approval = approved()
    assert consume(client, approval, approval) == [True, False]
    person_id = approval.payload["person_id"]
    assert len(client.get("/entitlements", params={"person_id": person_id}).json()) == 1


def test_a_service_before_the_approval_reached_delivery_is_refused_saying_so(client: TestClient) -> None:
    response = client.post("/deliveries", json=service(approved()))
    assert response.status_code == 409
    assert "须经区残联办批准后才能记录服务" in error_of(response)["message"]
    assert runtime(client).store.read() == []


def test_a_service_under_a_rejected_application_is_refused_with_the_reason(client: TestClient) -> None:
    payload = ApplicationRejected(
        application_id=uuid4(),
        person_id=uuid4(),
        reason="不符合本年度补助条件",
        signatories=OFFICE,
        rejected_on=date(2024, 11, 1),
    )
    rejection = envelope(payload, payload.rejected_on)
    consume(client, rejection)
    response = client.post("/deliveries", json=service(rejection))
    assert response.status_code == 409
    assert "不符合本年度补助条件" in error_of(response)["message"]


def test_an_unsigned_record_is_refused_naming_the_signature(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    body = service(approval)
    del body["signed_by"]
    response = client.post("/deliveries", json=body)
    assert response.status_code == 422
    assert error_of(response)["field"] == "signed_by"


def test_a_staff_field_naming_a_phone_number_is_refused_and_nothing_is_recorded(client: TestClient) -> None:
    # 服务人员 travels in clear on the delivery stream and outlives a forgotten person's key (ADR 0007).
    approval = approved()
    consume(client, approval)
    response = client.post("/deliveries", json=service(approval, staff="刘康复师 13912345678"))
    assert response.status_code == 422
    assert error_of(response)["field"] == "staff" and "不得写入身份证号、残疾人证号或手机号" in response.text
    assert runtime(client).store.read() == []


def test_another_institution_than_the_one_fixed_for_the_year_is_refused(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    response = client.post("/deliveries", json=service(approval, institution_id="cq-aier-eye"))
    assert response.status_code == 409
    assert error_of(response)["field"] == "institution_id"


def test_records_are_listed_by_person_and_institution(client: TestClient) -> None:
    first, second = approved(), approved()
    consume(client, first, second)
    for approval in (first, second):
        assert client.post("/deliveries", json=service(approval)).status_code == 201

    def people(**query: Any) -> list[str]:
        return [found["person_id"] for found in client.get("/deliveries", params=query).json()]

    assert people(person_id=first.payload["person_id"]) == [first.payload["person_id"]]
    assert len(people(institution_id="cqmu-second")) == 2
    assert people(institution_id="cq-aier-eye") == []


def test_an_unknown_record_is_not_found(client: TestClient) -> None:
    error = field_error_of(client.get(f"/deliveries/{uuid4()}"), 404)
    assert (error["field"], error["code"]) == ("delivery_id", "delivery.record.not_found")


@pytest.mark.parametrize(
    ("changes", "status", "field", "code"),
    [
        ({"item": "cataract_surgery"}, 409, "item", "delivery.item.not_on_approval"),
        (
            {"person_id": "7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f"},
            409,
            "person_id",
            "delivery.person_id.not_on_approval",
        ),
        (
            {"period_end": "2025-01-10", "signed_on": "2025-01-10"},
            422,
            "period_end",
            "delivery.period_end.outside_year",
        ),
        ({"period_start": "2024-10-01"}, 422, "period_start", "delivery.period_start.before_approval"),
        (
            {"insurance_paid_fen": 200000},
            422,
            "insurance_paid_fen",
            "delivery.insurance_paid_fen.above_charge",
        ),
        (
            {"institution_id": "lj-rehab-centre"},
            422,
            "institution_id",
            "delivery.institution_id.not_designated_for_item",
        ),
    ],
)
def test_a_record_not_matching_its_approval_or_year_is_refused_naming_the_field(
    client: TestClient, changes: dict[str, Any], status: int, field: str, code: str
) -> None:
    approval = approved()
    consume(client, approval)
    error = field_error_of(client.post("/deliveries", json=service(approval, **changes)), status)
    assert (error["field"], error["code"]) == (field, code)
    assert runtime(client).store.read() == []


def test_insurance_above_the_charge_is_refused_in_yuan_as_the_clerk_typed_it(client: TestClient) -> None:
    approval = approved()
    consume(client, approval)
    response = client.post("/deliveries", json=service(approval, insurance_paid_fen=200000))
    assert error_of(response)["message"] == "医保等已支付 2,000.00元，超过发票总额 1,500.00元"
