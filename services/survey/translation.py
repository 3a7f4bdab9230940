"""Translators at the edge: survey contract payloads <-> survey domain events."""

from __future__ import annotations

from enum import Enum
from typing import Any

from rehab_contracts import EventEnvelope, parse_payload
from rehab_contracts import Guardian as GuardianContract
from rehab_contracts import NeedSurveyed as NeedSurveyedContract
from rehab_contracts import PersonDetailsCorrected as PersonDetailsCorrectedContract
from rehab_contracts import PersonRegistered as PersonRegisteredContract

from services.eventing.clock import business_date, business_time
from services.eventing.store import NewEvent
from services.survey.domain import (
    Guardian,
    NeedSurveyed,
    PersonDetails,
    PersonDetailsCorrected,
    PersonEvent,
    PersonRegistered,
)

_DETAIL_FIELDS = tuple(PersonDetails.__dataclass_fields__)


def domain_events(envelopes: list[EventEnvelope]) -> list[PersonEvent]:
    """A person's stored events as domain events, in version order."""
    return [domain_event(envelope) for envelope in envelopes]


def domain_event(envelope: EventEnvelope) -> PersonEvent:
    payload = parse_payload(envelope)
    day = business_date(envelope.occurred_at)
    if isinstance(payload, PersonRegisteredContract):
        details = PersonDetails(**{name: _plain(getattr(payload, name)) for name in _DETAIL_FIELDS})
        return PersonRegistered(payload.person_id, details, registered_on=day)
    if isinstance(payload, PersonDetailsCorrectedContract):
        changes = {
            name: _plain(getattr(payload, name))
            for name in _DETAIL_FIELDS
            if getattr(payload, name) is not None
        }
        return PersonDetailsCorrected(payload.person_id, payload.reason, changes, corrected_on=day)
    if isinstance(payload, NeedSurveyedContract):
        return NeedSurveyed(
            person_id=payload.person_id,
            survey_year=payload.survey_year,
            surveyed_on=payload.surveyed_on,
            has_needs=payload.has_needs,
            needed_items=_plain(payload.needed_items),
            home_visit_required=payload.home_visit_required,
            surveyor=payload.surveyor,
            street=payload.street,
            community=payload.community,
            certified=payload.certified,
            disability_categories=_plain(payload.disability_categories),
            disability_grade=_plain(payload.disability_grade),
            birth_month=payload.birth_month,
            economic_status=_plain(payload.economic_status),
            supersedes=payload.supersedes_event_id,
            event_id=envelope.event_id,
        )
    raise ValueError(f"{envelope.event_type} is not an event of the person aggregate")


def new_event(event: PersonEvent) -> NewEvent:
    """A decided domain event as the contract payload the store appends; the person id correlates them."""
    if isinstance(event, PersonRegistered):
        payload: Any = PersonRegisteredContract(
            person_id=event.person_id, **_contract_details(vars(event.details))
        )
        day = event.registered_on
    elif isinstance(event, PersonDetailsCorrected):
        payload = PersonDetailsCorrectedContract(
            person_id=event.person_id, reason=event.reason, **_contract_details(event.changes)
        )
        day = event.corrected_on
    else:
        payload = NeedSurveyedContract(
            person_id=event.person_id,
            survey_year=event.survey_year,
            street=event.street,
            community=event.community,
            surveyed_on=event.surveyed_on,
            has_needs=event.has_needs,
            needed_items=list(event.needed_items),
            home_visit_required=event.home_visit_required,
            surveyor=event.surveyor,
            supersedes_event_id=event.supersedes,
            certified=event.certified,
            disability_categories=list(event.disability_categories),
            disability_grade=event.disability_grade,
            birth_month=event.birth_month,
            economic_status=event.economic_status,
        )
        day = event.surveyed_on
    return NewEvent(payload, occurred_at=business_time(day), correlation_id=event.person_id)


def _contract_details(values: Any) -> dict[str, Any]:
    contract: dict[str, Any] = {}
    for name, value in dict(values).items():
        if isinstance(value, Guardian):
            contract[name] = GuardianContract(**vars(value))
        elif isinstance(value, tuple):
            contract[name] = list(value)
        else:
            contract[name] = value
    return contract


def _plain(value: Any) -> Any:
    """Contract values as the domain holds them: plain strings, tuples, dataclasses."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, GuardianContract):
        return Guardian(**{name: _plain(getattr(value, name)) for name in Guardian.__dataclass_fields__})
    return value
