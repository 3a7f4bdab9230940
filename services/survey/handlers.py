"""Command handlers of the survey service, each in the command's unit of work: load the person, one domain
call, append, project."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from rehab_contracts import EventEnvelope
from rehab_contracts.sealed import DataKey

from kernel.domain.clock import today
from kernel.domain.rejections import NotFound
from kernel.store.store import EventStore, UnitOfWork
from services.survey import keys, projection
from services.survey.domain import (
    NO_COMMUNITY_LISTS,
    OUT_OF_VIEW,
    NeedsSurveyRequest,
    OutOfView,
    Person,
    PersonDetails,
    PersonDetailsCorrected,
    PersonEvent,
    PersonRegistered,
)
from services.survey.identity import normalise
from services.survey.translation import domain_events, new_event


def stream_of(person_id: UUID) -> str:
    return f"person-{person_id}"


Guard = Callable[[Person], None]
"""The caller's check of the person a command loaded (the access layer's area check); raises to refuse."""


Sight = Callable[[str, str | None], bool]
"""Whether the caller may see the persons of a street (and community): the access layer's area."""


def _as_seen(holder: projection.Holder | None, sees: Sight | None) -> UUID | OutOfView | None:
    if holder is None:
        return None
    if sees is None or sees(holder.street, holder.community):
        return holder.person_id
    return OUT_OF_VIEW


def register_person(
    unit: UnitOfWork,
    streets: Sequence[str],
    details: PersonDetails,
    registered_on: date | None,
    communities: Mapping[str, frozenset[str]] = NO_COMMUNITY_LISTS,
    sees: Sight | None = None,
) -> UUID:
    """Register a person; ``sees`` tells whether the caller may see a person of a street (community): a
    refusal names the holder of the same ID number only to a caller who may."""
    holder = projection.person_holding(unit.session, normalise(details.id_number))
    decided = Person().register(
        details,
        registered_on=registered_on or today(),
        today=today(),
        streets=streets,
        registered_as=_as_seen(holder, sees),
        communities=communities,
    )
    person_id = decided[0].person_id
    save_decided(unit, person_id, 0, decided)
    return person_id


def correct_person(
    unit: UnitOfWork,
    streets: Sequence[str],
    person_id: UUID,
    changes: Mapping[str, Any],
    reason: str,
    check: Guard,
    communities: Mapping[str, frozenset[str]] = NO_COMMUNITY_LISTS,
    sees: Sight | None = None,
) -> list[str]:
    """Correct basic information; returns the names of the corrected fields."""
    person, version = load_to_decide(unit, person_id, check)
    new_id_number = changes.get("id_number")
    holder = projection.person_holding(unit.session, normalise(new_id_number)) if new_id_number else None
    decided = person.correct(
        changes,
        reason=reason,
        corrected_on=today(),
        today=today(),
        streets=streets,
        id_number_holder=_as_seen(holder, sees),
        communities=communities,
    )
    save_decided(unit, person_id, version, decided)
    return sorted(decided[0].changes)


def survey_needs(unit: UnitOfWork, person_id: UUID, request: NeedsSurveyRequest, check: Guard) -> UUID:
    """Record a needs survey; returns its survey id (the event id a later correction supersedes)."""
    person, version = load_to_decide(unit, person_id, check)
    decided = person.survey(request, today=today())
    return save_decided(unit, person_id, version, decided)[0].event_id


def forget(unit: UnitOfWork, person_id: UUID, check: Guard | None = None) -> str | None:
    """删除个人信息: destroy the person's data key and record it, in one transaction; the key id or None.

    ``check`` is the caller's area check of the person (a street's 负责人 forgets only its persons).
    Once the transaction commits, ``keys.erase_from_log`` must run so the key leaves the log too.
    """
    person, version = load_to_decide(unit, person_id, check)
    key_id = keys.destroy_key(unit.session, person_id)
    decided = person.forget(key_id=key_id, today=today())
    save_decided(unit, person_id, version, decided)
    return key_id


def forget_person(store: EventStore, person_id: UUID) -> str | None:
    """``forget`` in a unit of work of its own, for the command line (``rehab forget``)."""
    with store.transaction() as unit:
        key_id = forget(unit, person_id)
    keys.erase_from_log(store.engine)
    return key_id


def load_person(store: EventStore, person_id: UUID) -> tuple[Person, list[EventEnvelope]]:
    """The person and its stored events, for queries."""
    with store.reading() as unit:
        envelopes = unit.load(stream_of(person_id))
        key = keys.key_of(unit.session, person_id)
    if not envelopes:
        raise NotFound(f"没有登记编号为 {person_id} 的人", field="person_id", code="survey.person.not_found")
    return Person.from_history(domain_events(envelopes, key)), envelopes


def load_to_decide(unit: UnitOfWork, person_id: UUID, check: Guard | None = None) -> tuple[Person, int]:
    """The person (decrypted once) and its version, after the caller's ``check`` of it."""
    envelopes = unit.load(stream_of(person_id))
    if not envelopes:
        raise NotFound(f"没有登记编号为 {person_id} 的人", field="person_id", code="survey.person.not_found")
    key = keys.key_of(unit.session, person_id)
    person = Person.from_history(domain_events(envelopes, key))
    if check is not None:
        check(person)
    return person, envelopes[-1].version


def save_decided(
    unit: UnitOfWork, person_id: UUID, version: int, decided: Sequence[PersonEvent]
) -> list[EventEnvelope]:
    """Append the decided events (details sealed with the person's data key, minted when first needed)."""
    key: DataKey | None = None  # only registrations and corrections are sealed with it
    if any(isinstance(event, PersonRegistered | PersonDetailsCorrected) for event in decided):
        # A new person (version 0: a fresh id, no stream yet) has no key to look up.
        existing = keys.key_of(unit.session, person_id) if version else None
        key = existing or keys.create_key(unit.session, person_id)
    appended = unit.append(stream_of(person_id), version, [new_event(event, key) for event in decided])
    projection.project(unit.session, zip(appended, decided, strict=True))
    return appended
