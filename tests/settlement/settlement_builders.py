"""Builders of settlement facts and of real contract envelopes for the settlement tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from rehab_contracts import EventEnvelope, EventPayload
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationRejected,
    AssessmentCompleted,
    NeedSurveyed,
    PersonRegistered,
    ServiceDelivered,
)
from rehab_contracts.examples import example_payload
from rehab_contracts.streams import APPROVAL_STREAM, ASSESSMENT_STREAM, DELIVERY_STREAM, SURVEY_STREAM

from kernel.domain.clock import business_time
from kernel.domain.ids import new_event_id
from services.settlement.book.facts import (
    ApplicationRefused,
    ApprovedItem,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.book.policy import Policy, PolicySet

_ids = itertools.count(1)

STREET = "鸳鸯"
DISTRICT_ASSESSOR = "lj-assess-first-hospital"
CITY_ASSESSOR = "cq-assess-cqmu-second"
REHAB_CENTRE = "lj-rehab-centre"
EYE_HOSPITAL = "cqmu-second"
FUND = "fund:liangjiang-finance"


def policy_in(policies: PolicySet, policy_id: str) -> Policy:
    """The policy ``policy_id``, which the seeds' policy files hold."""
    found = policies.get(policy_id)
    assert found is not None, policy_id
    return found


def _event_id(event_id: str | None) -> str:
    return event_id if event_id is not None else f"event-{next(_ids)}"


# -- domain facts ------------------------------------------------------------------------------
def surveyed(
    person: str = "p1",
    *,
    year: int = 2024,
    street: str = STREET,
    has_needs: bool = True,
    on: date = date(2024, 10, 15),
    event_id: str | None = None,
) -> PersonSurveyed:
    return PersonSurveyed(_event_id(event_id), person, year, street, has_needs, on)


def assessed(
    person: str = "p1",
    *,
    year: int = 2024,
    institution: str = DISTRICT_ASSESSOR,
    level: str = "district",
    on: date = date(2024, 10, 22),
    event_id: str | None = None,
) -> PersonAssessed:
    return PersonAssessed(_event_id(event_id), person, year, institution, level, on)


def item(
    code: str = "support_service_mental",
    institution: str | None = REHAB_CENTRE,
    mode: str = "free",
    amount_fen: int | None = None,
) -> ApprovedItem:
    return ApprovedItem(code, institution, mode, amount_fen)


def approved(
    *items: ApprovedItem,
    application: str = "a1",
    person: str = "p1",
    year: int = 2024,
    on: date = date(2024, 11, 1),
    event_id: str | None = None,
) -> ItemsApproved:
    return ItemsApproved(_event_id(event_id), application, person, year, items or (item(),), on)


def refused(application: str = "a1", person: str = "p1", event_id: str | None = None) -> ApplicationRefused:
    return ApplicationRefused(_event_id(event_id), application, person, date(2024, 11, 1))


def recorded(
    delivery: str = "d1",
    *,
    application: str = "a1",
    person: str = "p1",
    item_code: str = "support_service_mental",
    institution: str = REHAB_CENTRE,
    year: int = 2024,
    charge_fen: int = 50000,
    insurance_paid_fen: int = 0,
    signed: bool = True,
    on: date = date(2024, 12, 20),
    event_id: str | None = None,
) -> ServiceRecorded:
    return ServiceRecorded(
        _event_id(event_id),
        delivery,
        application,
        person,
        item_code,
        institution,
        year,
        charge_fen,
        insurance_paid_fen,
        signed,
        on,
    )


# -- contract envelopes --------------------------------------------------------------------------
def payload_of(model: type[EventPayload], **overrides: Any) -> EventPayload:
    """The documented example of ``model`` with overrides, validated against the contract."""
    values = example_payload(model).model_dump(mode="json")
    values.update({key: _json(value) for key, value in overrides.items()})
    return model.model_validate(values)


def _json(value: Any) -> Any:
    if isinstance(value, UUID | date):
        return str(value)
    return value


def envelope_of(payload: EventPayload, day: date, stream_id: str, version: int = 1) -> EventEnvelope:
    event_id = new_event_id()
    return EventEnvelope(
        event_id=event_id,
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=business_time(day),
        recorded_at=datetime.now(UTC),
        producer=payload.producer,
        stream_id=stream_id,
        version=version,
        correlation_id=event_id,
        payload=payload.model_dump(mode="json"),
    )


class Journey:
    """One person's events through the whole workflow, as the four producers would publish them."""

    def __init__(
        self,
        *,
        item_code: str = "support_service_mental",
        mode: str = "free",
        amount_fen: int | None = None,
        institution: str = REHAB_CENTRE,
        charge_fen: int = 50000,
        insurance_paid_fen: int = 0,
        street: str = STREET,
    ) -> None:
        self.person = uuid4()
        self.application = uuid4()
        self.delivery = uuid4()
        person_stream = f"person-{self.person}"
        registered = payload_of(PersonRegistered, person_id=self.person, street=street)
        self.registered = envelope_of(registered, date(2024, 10, 15), person_stream)
        self.surveyed = envelope_of(
            payload_of(
                NeedSurveyed,
                person_id=self.person,
                street=street,
                supersedes_event_id=None,
                needed_items=[item_code],
            ),
            date(2024, 10, 15),
            person_stream,
            version=2,
        )
        self.assessed = envelope_of(
            payload_of(
                AssessmentCompleted,
                person_id=self.person,
                institution_id=DISTRICT_ASSESSOR,
                institution_level="district",
                assessed_needs=[item_code],
            ),
            date(2024, 10, 22),
            f"assessment-{uuid4()}",
        )
        approval_items = [
            {"item": item_code, "institution_id": institution, "subsidy_mode": mode, "amount_fen": amount_fen}
        ]
        self.approved = envelope_of(
            payload_of(
                ApplicationApproved,
                application_id=self.application,
                person_id=self.person,
                street=street,
                approved_items=approval_items,
                rejected_items=[],
            ),
            date(2024, 11, 1),
            f"application-{self.application}",
        )
        self.delivered = envelope_of(
            payload_of(
                ServiceDelivered,
                delivery_id=self.delivery,
                application_id=self.application,
                person_id=self.person,
                institution_id=institution,
                item=item_code,
                charge_fen=charge_fen,
                insurance_paid_fen=insurance_paid_fen,
            ),
            date(2024, 12, 20),
            f"delivery-{self.delivery}",
        )

    def rejected(self) -> EventEnvelope:
        return envelope_of(
            payload_of(ApplicationRejected, application_id=self.application, person_id=self.person),
            date(2024, 11, 1),
            f"application-{self.application}",
            version=2,
        )

    def events(self) -> list[tuple[EventEnvelope, str]]:
        """(envelope, stream) in workflow order."""
        return [
            (self.registered, SURVEY_STREAM),
            (self.surveyed, SURVEY_STREAM),
            (self.assessed, ASSESSMENT_STREAM),
            (self.approved, APPROVAL_STREAM),
            (self.delivered, DELIVERY_STREAM),
        ]
