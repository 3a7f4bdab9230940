"""Translators at the edge: assessment contract payloads and reference data <-> assessment domain."""

from __future__ import annotations

from uuid import UUID

from rehab_contracts import AssessmentCompleted as AssessmentCompletedContract
from rehab_contracts import EventEnvelope, parse_payload
from rehab_contracts import ReferralIssued as ReferralIssuedContract
from rehab_contracts.vocabulary import (
    AssessmentMode,
    CatalogueItem,
    DisabilityCategory,
    InstitutionLevel,
    ReferralTarget,
)

from kernel.domain.clock import business_time
from kernel.reference import Jurisdiction
from kernel.store.store import NewEvent
from services.assessment.domain import (
    AssessmentCompleted,
    AssessmentEvent,
    Institution,
    Network,
    ReferralIssued,
)


def network_of(jurisdiction: Jurisdiction) -> Network:
    """The jurisdiction's designated institutions as the domain sees them."""
    return Network(
        assessment={
            i.id: Institution(i.id, i.name, frozenset(i.designated_items), i.level)
            for i in jurisdiction.assessment_institutions
        },
        service={
            i.id: Institution(i.id, i.name, frozenset(i.designated_items))
            for i in jurisdiction.service_institutions
        },
    )


def domain_events(envelopes: list[EventEnvelope]) -> list[AssessmentEvent]:
    return [domain_event(envelope) for envelope in envelopes]


def domain_event(envelope: EventEnvelope) -> AssessmentEvent:
    payload = parse_payload(envelope)
    if isinstance(payload, AssessmentCompletedContract):
        return AssessmentCompleted(
            assessment_id=payload.assessment_id,
            person_id=payload.person_id,
            assessment_year=payload.assessment_year,
            institution_id=payload.institution_id,
            institution_level=payload.institution_level.value,
            assessor=payload.assessor,
            assessed_on=payload.assessed_on,
            mode=payload.mode.value,
            assessed_needs=tuple(item.value for item in payload.assessed_needs),
            referral_needed=payload.referral_needed,
            opinion=payload.opinion,
        )
    if isinstance(payload, ReferralIssuedContract):
        return ReferralIssued(
            referral_id=payload.referral_id,
            assessment_id=payload.assessment_id,
            person_id=payload.person_id,
            from_institution_id=payload.from_institution_id,
            to_institution_id=payload.to_institution_id,
            to_kind=payload.to_kind.value,
            items=tuple(item.value for item in payload.items),
            issued_on=payload.issued_on,
            street=payload.street,
            community=payload.community,
            disability_categories=(
                tuple(category.value for category in payload.disability_categories)
                if payload.disability_categories is not None
                else None
            ),
        )
    raise ValueError(f"{envelope.event_type} is not an event of the assessment aggregate")


def new_event(event: AssessmentEvent, *, correlation_id: UUID | None, causation_id: UUID | None) -> NewEvent:
    """A decided domain event as the payload to append, in the person's journey (correlation)."""
    if isinstance(event, AssessmentCompleted):
        payload: AssessmentCompletedContract | ReferralIssuedContract = AssessmentCompletedContract(
            assessment_id=event.assessment_id,
            person_id=event.person_id,
            assessment_year=event.assessment_year,
            institution_id=event.institution_id,
            institution_level=InstitutionLevel(event.institution_level),
            assessor=event.assessor,
            assessed_on=event.assessed_on,
            mode=AssessmentMode(event.mode),
            assessed_needs=[CatalogueItem(item) for item in event.assessed_needs],
            referral_needed=event.referral_needed,
            opinion=event.opinion,
        )
        day = event.assessed_on
    else:
        payload = ReferralIssuedContract(
            referral_id=event.referral_id,
            assessment_id=event.assessment_id,
            person_id=event.person_id,
            from_institution_id=event.from_institution_id,
            to_institution_id=event.to_institution_id,
            to_kind=ReferralTarget(event.to_kind),
            items=[CatalogueItem(item) for item in event.items],
            issued_on=event.issued_on,
            street=event.street,
            community=event.community,
            disability_categories=(
                [DisabilityCategory(category) for category in event.disability_categories]
                if event.disability_categories is not None
                else None
            ),
        )
        day = event.issued_on
    return NewEvent(
        payload, occurred_at=business_time(day), correlation_id=correlation_id, causation_id=causation_id
    )
