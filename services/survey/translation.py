"""Translators at the edge: survey contract payloads <-> survey domain events.

Person events are written as schema v2, the identifying details sealed with the person's data key
(``sealing.py``); schema v1 events (details in clear, written before sealing) are still read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rehab_contracts import EventEnvelope, PersonDetailsCorrectedV2, PersonRegisteredV2, parse_payload
from rehab_contracts import NeedSurveyed as NeedSurveyedContract
from rehab_contracts import PersonDetailsCorrected as PersonDetailsCorrectedV1
from rehab_contracts import PersonForgotten as PersonForgottenContract
from rehab_contracts import PersonRegistered as PersonRegisteredV1
from rehab_contracts.sealed import DataKey
from rehab_contracts.vocabulary import (
    CatalogueItem,
    DisabilityCategory,
    DisabilityGrade,
    DisabilitySubtype,
    EconomicStatus,
    HardshipStatus,
)

from kernel.domain.clock import business_date, business_time
from kernel.store.store import NewEvent
from services.survey.domain import (
    NeedSurveyed,
    PersonDetails,
    PersonDetailsCorrected,
    PersonEvent,
    PersonForgotten,
    PersonRegistered,
)
from services.survey.sealing import (
    CLEAR_FIELDS,
    correction_payload,
    opened_changes,
    opened_details,
    plain,
    registration_payload,
)

_DETAIL_FIELDS = tuple(PersonDetails.__dataclass_fields__)


def domain_events(envelopes: list[EventEnvelope], key: DataKey | None = None) -> list[PersonEvent]:
    """A person's stored events as domain events, in version order, opened with the person's key."""
    return [domain_event(envelope, key) for envelope in envelopes]


def domain_event(envelope: EventEnvelope, key: DataKey | None = None) -> PersonEvent:
    payload = parse_payload(envelope)
    day = business_date(envelope.occurred_at)
    if isinstance(payload, PersonRegisteredV2):
        return PersonRegistered(payload.person_id, opened_details(payload, key), registered_on=day)
    if isinstance(payload, PersonDetailsCorrectedV2):
        changes = {
            name: plain(getattr(payload, name)) for name in CLEAR_FIELDS if getattr(payload, name) is not None
        }
        changes |= opened_changes(payload, key)
        return PersonDetailsCorrected(payload.person_id, payload.reason, changes, corrected_on=day)
    if isinstance(payload, PersonForgottenContract):
        return PersonForgotten(payload.person_id, payload.forgotten_on, payload.key_id)
    if isinstance(payload, PersonRegisteredV1 | PersonDetailsCorrectedV1):
        return _v1_event(payload, day)
    if isinstance(payload, NeedSurveyedContract):
        return _need_surveyed(envelope, payload)
    raise ValueError(f"{envelope.event_type} is not an event of the person aggregate")


def _v1_event(payload: PersonRegisteredV1 | PersonDetailsCorrectedV1, day: date) -> PersonEvent:
    """A schema v1 event: details in clear, as registered before sealing."""
    if isinstance(payload, PersonRegisteredV1):
        details = PersonDetails(**{name: plain(getattr(payload, name)) for name in _DETAIL_FIELDS})
        return PersonRegistered(payload.person_id, details, registered_on=day)
    changes = {
        name: plain(getattr(payload, name)) for name in _DETAIL_FIELDS if getattr(payload, name) is not None
    }
    return PersonDetailsCorrected(payload.person_id, payload.reason, changes, corrected_on=day)


def _need_surveyed(envelope: EventEnvelope, payload: NeedSurveyedContract) -> NeedSurveyed:
    return NeedSurveyed(
        person_id=payload.person_id,
        survey_year=payload.survey_year,
        surveyed_on=payload.surveyed_on,
        has_needs=payload.has_needs,
        needed_items=plain(payload.needed_items),
        home_visit_required=payload.home_visit_required,
        surveyor=payload.surveyor,
        street=payload.street,
        community=payload.community,
        certified=payload.certified,
        disability_categories=plain(payload.disability_categories),
        disability_grade=plain(payload.disability_grade),
        birth_month=payload.birth_month,
        economic_status=plain(payload.economic_status),
        supersedes=payload.supersedes_event_id,
        event_id=envelope.event_id,
        disability_subtypes=plain(payload.disability_subtypes),
        hardship_statuses=plain(payload.hardship_statuses),
        residence_permit=payload.residence_permit,
    )


def new_event(event: PersonEvent, key: DataKey | None = None) -> NewEvent:
    """A decided domain event as the contract payload the store appends; the person id correlates them.

    Registrations and corrections seal the identifying details with ``key``, the person's data key.
    """
    payload: Any
    if isinstance(event, PersonRegistered | PersonDetailsCorrected):
        if key is None:
            raise ValueError(f"person {event.person_id} has no data key to seal their details with")
        if isinstance(event, PersonRegistered):
            payload, day = registration_payload(event, key), event.registered_on
        else:
            payload, day = correction_payload(event, key), event.corrected_on
    elif isinstance(event, PersonForgotten):
        payload = PersonForgottenContract(
            person_id=event.person_id, forgotten_on=event.forgotten_on, key_id=event.key_id
        )
        day = event.forgotten_on
    else:
        payload, day = _need_surveyed_payload(event), event.surveyed_on
    return NewEvent(payload, occurred_at=business_time(day), correlation_id=event.person_id)


def _need_surveyed_payload(event: NeedSurveyed) -> NeedSurveyedContract:
    return NeedSurveyedContract(
        person_id=event.person_id,
        survey_year=event.survey_year,
        street=event.street,
        community=event.community,
        surveyed_on=event.surveyed_on,
        has_needs=event.has_needs,
        needed_items=[CatalogueItem(item) for item in event.needed_items],
        home_visit_required=event.home_visit_required,
        surveyor=event.surveyor,
        supersedes_event_id=event.supersedes,
        certified=event.certified,
        disability_categories=[DisabilityCategory(category) for category in event.disability_categories],
        disability_grade=DisabilityGrade(event.disability_grade),
        birth_month=event.birth_month,
        economic_status=EconomicStatus(event.economic_status),
        disability_subtypes=[DisabilitySubtype(subtype) for subtype in event.disability_subtypes],
        hardship_statuses=[HardshipStatus(status) for status in event.hardship_statuses],
        residence_permit=event.residence_permit,
    )
