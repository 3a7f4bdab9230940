"""Assessment and approval events as their producers publish them, for the registry's consumer tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient
from rehab_contracts import (
    APPROVAL_STREAM,
    ASSESSMENT_STREAM,
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmitted,
    AssessmentCompleted,
    EventEnvelope,
    EventPayload,
    InstitutionChangeApproved,
    ReferralIssued,
)
from rehab_contracts.examples import example_payload

from kernel.domain.clock import business_time
from kernel.domain.ids import new_event_id
from tests.apps import state_of

DISTRICT_ASSESSOR = "lj-assess-first-hospital"
CITY_ASSESSOR = "cq-assess-cqmu-second"
SERVICE_INSTITUTION = "lj-first-hospital"
OTHER_SERVICE_INSTITUTION = "lj-second-hospital"


def envelope(payload: EventPayload, on: date, version: int = 1) -> EventEnvelope:
    stream_key = getattr(payload, "assessment_id", None) or getattr(payload, "application_id", uuid4())
    return EventEnvelope(
        event_id=new_event_id(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=business_time(on),
        recorded_at=datetime.now(UTC),
        producer=payload.producer,
        stream_id=f"case-{stream_key}",
        version=version,
        correlation_id=getattr(payload, "person_id", uuid4()),
        payload=payload.model_dump(mode="json"),
    )


def of(model: type[EventPayload], **values: Any) -> EventPayload:
    """The contract's example of ``model`` with ``values`` instead."""
    example = example_payload(model).model_dump(mode="json")
    return model.model_validate({**example, **values})


def deliver(
    client: TestClient, payload: EventPayload, on: date = date(2024, 10, 22), version: int = 1
) -> bool:
    stream = ASSESSMENT_STREAM if payload.producer == "assessment" else APPROVAL_STREAM
    consumer = state_of(client).runtime.consumer
    return bool(consumer.apply(envelope(payload, on, version), stream))


def assessed(person_id: UUID | str, institution: str = DISTRICT_ASSESSOR, **values: Any) -> EventPayload:
    defaults = {
        "assessment_id": str(uuid4()),
        "person_id": str(person_id),
        "institution_id": institution,
        "institution_level": "district" if institution == DISTRICT_ASSESSOR else "city",
        "assessment_year": 2024,
        "assessed_on": "2024-10-22",
    }
    return of(AssessmentCompleted, **{**defaults, **values})


def referred(person_id: UUID | str, assessment_id: UUID | str, to: str = SERVICE_INSTITUTION) -> EventPayload:
    escalation = to == CITY_ASSESSOR
    return of(
        ReferralIssued,
        person_id=str(person_id),
        assessment_id=str(assessment_id),
        from_institution_id=DISTRICT_ASSESSOR,
        to_institution_id=to,
        to_kind="assessment_institution" if escalation else "service_institution",
        items=[] if escalation else ["low_vision_training"],
        issued_on="2024-10-23",
        referral_id=str(uuid4()),
    )


def submitted(person_id: UUID | str, application_id: UUID) -> EventPayload:
    return of(
        ApplicationSubmitted,
        person_id=str(person_id),
        application_id=str(application_id),
        application_year=2024,
        submitted_on="2024-10-25",
    )


def approved(
    person_id: UUID | str, application_id: UUID, institution: str = SERVICE_INSTITUTION
) -> EventPayload:
    example = example_payload(ApplicationApproved).model_dump(mode="json")
    item = {**example["approved_items"][0], "item": "low_vision_training", "institution_id": institution}
    return of(
        ApplicationApproved,
        person_id=str(person_id),
        application_id=str(application_id),
        application_year=2024,
        approved_items=[item],
        rejected_items=[],
        approved_on="2024-11-01",
    )


def rejected(person_id: UUID | str, application_id: UUID) -> EventPayload:
    return of(ApplicationRejected, person_id=str(person_id), application_id=str(application_id))


def changed(person_id: UUID | str, application_id: UUID, to: str) -> EventPayload:
    return of(
        InstitutionChangeApproved,
        person_id=str(person_id),
        application_id=str(application_id),
        application_year=2024,
        item="low_vision_training",
        from_institution_id=SERVICE_INSTITUTION,
        to_institution_id=to,
    )
