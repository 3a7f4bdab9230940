"""Command and event handlers of the assessment service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from uuid import UUID

from rehab_contracts import SURVEY_STREAM, EventEnvelope, EventPayload, NeedSurveyed

from kernel.domain.clock import today
from kernel.domain.rejections import NotFound
from kernel.messaging.consumer import Subscription
from kernel.store.store import EventStore, UnitOfWork
from services.assessment import projection
from services.assessment.domain import (
    Assessment,
    AssessmentCompleted,
    AssessmentEvent,
    AssessmentRequest,
    Network,
    ReferralIssued,
    ReferralRequest,
)
from services.assessment.translation import domain_events, new_event


def stream_of(assessment_id: UUID) -> str:
    return f"assessment-{assessment_id}"


# -- commands (each in the command's unit of work) -----------------------------------------------------
Guard = Callable[[Assessment], None]
"""The caller's check of the assessment a command loaded (the access layer's institution check)."""


def complete_assessment(unit: UnitOfWork, network: Network, request: AssessmentRequest) -> Assessment:
    """Record a 康复需求评估; returns the assessment as recorded."""
    case = projection.case_of(unit.session, request.person_id, request.assessment_year)
    decided = Assessment().complete(request, case=case.facts, network=network, today=today())
    _save(
        unit,
        decided[0].assessment_id,
        0,
        decided,
        correlation_id=case.correlation_id,
        causation_id=case.survey_event_id,
    )
    return Assessment.from_history(decided)


def issue_referral(
    unit: UnitOfWork, network: Network, assessment_id: UUID, request: ReferralRequest, check: Guard
) -> UUID:
    """Refer (or escalate) the assessment's needs; returns the referral id."""
    envelopes = _load(unit, assessment_id)
    history = domain_events(envelopes)
    assessment = Assessment.from_history(history)
    check(assessment)
    completed = history[0]
    assert isinstance(completed, AssessmentCompleted)
    decided = [
        _in_registered_area(unit, event, completed.assessment_year)
        for event in assessment.issue_referral(request, network=network, today=today())
    ]
    first = envelopes[0]
    _save(
        unit,
        assessment_id,
        envelopes[-1].version,
        decided,
        correlation_id=first.correlation_id,
        causation_id=first.event_id,
    )
    return decided[0].referral_id


def _in_registered_area(unit: UnitOfWork, event: ReferralIssued, year: int) -> ReferralIssued:
    """A referral names the street and community the person is registered in and their disability
    categories, as the year's needs survey recorded them."""
    found = projection.registered(unit.session, event.person_id, year)
    return replace(
        event,
        street=found.street,
        community=found.community,
        disability_categories=found.disability_categories,
    )


def load_assessment(store: EventStore, assessment_id: UUID) -> Assessment:
    with store.reading() as unit:
        return Assessment.from_history(domain_events(_load(unit, assessment_id)))


def _load(unit: UnitOfWork, assessment_id: UUID) -> list[EventEnvelope]:
    envelopes = unit.load(stream_of(assessment_id))
    if not envelopes:
        raise NotFound(
            f"没有编号为 {assessment_id} 的评估",
            field="assessment_id",
            code="assessment.assessment.not_found",
        )
    return envelopes


def _save(
    unit: UnitOfWork,
    assessment_id: UUID,
    version: int,
    decided: Sequence[AssessmentEvent],
    *,
    correlation_id: UUID | None,
    causation_id: UUID | None,
) -> None:
    new = [new_event(event, correlation_id=correlation_id, causation_id=causation_id) for event in decided]
    projection.project(unit.session, unit.append(stream_of(assessment_id), version, new))


# -- consumed events ---------------------------------------------------------------------------------
def on_need_surveyed(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """A street surveyed a person: put them on (or update) the year's worklist."""
    assert isinstance(payload, NeedSurveyed)
    projection.follow_survey(unit.session, envelope, payload)


def subscriptions() -> list[Subscription]:
    return [Subscription(SURVEY_STREAM, {NeedSurveyed.event_type: on_need_surveyed})]
