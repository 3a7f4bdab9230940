"""The persons, surveys and services of a year from the archive: the edge where personal details are read.

Only the annual summary 附件3 needs names, ID numbers and addresses; they come from the survey's
PersonRegistered and PersonDetailsCorrected events that settlement archives, and are never posted
to the ledger (信息安全: the ledger names persons by id alone). Schema v2 events seal them under the
person's data key, which the survey registry releases to settlement (``person_keys.py``); once a
person is forgotten (``survey.person_forgotten``) their fields read ``（已删除）`` here, v1 events included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from rehab_contracts import EventEnvelope, parse_payload
from rehab_contracts.events import (
    NeedSurveyed,
    PersonalDetails,
    PersonalDetailsCorrection,
    PersonDetailsCorrected,
    PersonDetailsCorrectedV2,
    PersonForgotten,
    PersonRegistered,
    PersonRegisteredV2,
    ServiceDelivered,
)
from rehab_contracts.sealed import REDACTED, UNAVAILABLE, DataKey, SealBroken, SealedPersonalData, open_sealed

from services.settlement.documents.person_keys import PersonKeys

log = logging.getLogger(__name__)

REGISTER_EVENT_TYPES = (
    PersonRegistered.event_type,
    PersonDetailsCorrected.event_type,
    PersonForgotten.event_type,
    NeedSurveyed.event_type,
    ServiceDelivered.event_type,
)
"""The archived events the register is read from."""

_CLEAR = ("street", "community", "sex")
_PERSONAL = ("name", "address", "id_number", "certificate_number", "veteran_certificate_number", "phone")

PersonRecord = PersonRegistered | PersonRegisteredV2 | PersonDetailsCorrected | PersonDetailsCorrectedV2


@dataclass(frozen=True)
class PersonDetails:
    """Basic information 残疾人基本信息 as last registered or corrected (personal fields may be redacted)."""

    person_id: str
    street: str
    community: str
    name: str
    sex: str
    address: str
    id_number: str
    certificate_number: str | None
    veteran_certificate_number: str | None
    phone: str


@dataclass(frozen=True)
class YearSurvey:
    """The survey of a person that stands for the year (the last one not superseded)."""

    person_id: str
    street: str
    community: str
    has_needs: bool
    surveyed_on: date


@dataclass(frozen=True)
class ServiceReceived:
    """A signed service record of the year 得到康复服务项目."""

    person_id: str
    item: str
    institution: str
    signed_on: date


@dataclass(frozen=True)
class YearRegister:
    year: int
    persons: dict[str, PersonDetails]
    surveys: dict[str, YearSurvey]
    services: dict[str, list[ServiceReceived]]


@dataclass
class _Archive:
    """What one pass over the archive collects, before personal details are opened."""

    records: dict[str, list[PersonRecord]]
    forgotten: set[str]
    surveys: dict[str, list[tuple[str, YearSurvey]]]
    superseded: set[str]
    services: dict[str, list[ServiceReceived]]

    def take(self, envelope: EventEnvelope, year: int) -> None:
        payload = parse_payload(envelope)
        match payload:
            case (
                PersonRegistered()
                | PersonRegisteredV2()
                | PersonDetailsCorrected()
                | (PersonDetailsCorrectedV2())
            ):
                self.records.setdefault(str(payload.person_id), []).append(payload)
            case PersonForgotten():
                self.forgotten.add(str(payload.person_id))
            case NeedSurveyed() if payload.survey_year == year:
                if payload.supersedes_event_id is not None:
                    self.superseded.add(str(payload.supersedes_event_id))
                self.surveys.setdefault(str(payload.person_id), []).append(
                    (str(envelope.event_id), _survey(payload))
                )
            case ServiceDelivered() if payload.service_year == year:
                received = ServiceReceived(
                    str(payload.person_id), payload.item.value, payload.institution_id, payload.signed_on
                )
                self.services.setdefault(received.person_id, []).append(received)


def year_register(
    envelopes: Iterable[EventEnvelope], year: int, keys: PersonKeys | None = None
) -> YearRegister:
    """Read the register of ``year`` from archived envelopes, in archive order.

    Sealed details are opened with ``keys`` (default: fetched from the registry as configured in the
    environment), only for the persons surveyed in the year.
    """
    keys = keys if keys is not None else PersonKeys.from_environment()
    archive = _Archive({}, set(), {}, set(), {})
    for envelope in envelopes:
        archive.take(envelope, year)
    for person in archive.forgotten:
        keys.drop(person)
    standing: dict[str, YearSurvey] = {}
    for person, candidates in archive.surveys.items():
        current = [survey for event_id, survey in candidates if event_id not in archive.superseded]
        if current:
            standing[person] = current[-1]
    # One batch request for the year's keys, rather than one request per person (附件3 of 1,000 names).
    keys.prefetch(p for p in standing if _needs_key(archive.records.get(p, []), p in archive.forgotten))
    persons = {}
    for person in standing:
        details = _details_of(person, archive.records.get(person, []), person in archive.forgotten, keys)
        if details is not None:
            persons[person] = details
    return YearRegister(year, persons, standing, archive.services)


def _details_of(
    person: str, records: list[PersonRecord], forgotten: bool, keys: PersonKeys
) -> PersonDetails | None:
    if not records or not isinstance(records[0], PersonRegistered | PersonRegisteredV2):
        return None
    key: DataKey | str = keys.key_for(person) if _needs_key(records, forgotten) else REDACTED
    details = _registered(records[0], key)
    for correction in records[1:]:
        details = replace(details, **_changes(correction, key))
    if forgotten:
        erased: dict[str, Any] = {name: _marker(getattr(details, name), REDACTED) for name in _PERSONAL}
        details = replace(details, **erased)
    return details


def _needs_key(records: list[PersonRecord], forgotten: bool) -> bool:
    """Sealed details (schema v2) open with the person's key, unless the person was forgotten."""
    sealed = (PersonRegisteredV2, PersonDetailsCorrectedV2)
    return not forgotten and any(isinstance(record, sealed) for record in records)


def _registered(registered: PersonRegistered | PersonRegisteredV2, key: DataKey | str) -> PersonDetails:
    clear = {"street": registered.street, "community": registered.community, "sex": registered.sex.value}
    if isinstance(registered, PersonRegistered):
        personal = {name: getattr(registered, name) for name in _PERSONAL}
    else:
        sealed, person_id = registered.personal_data, registered.person_id
        opened = _open(sealed, key, person_id, registered.event_type, PersonalDetails)
        if isinstance(opened, str):
            certified = opened if registered.certified else None
            personal = {name: opened for name in _PERSONAL} | {
                "certificate_number": certified,
                "veteran_certificate_number": None,
            }
        else:
            personal = {name: getattr(opened, name) for name in _PERSONAL}
    return PersonDetails(person_id=str(registered.person_id), **clear, **personal)


def _changes(correction: PersonRecord, key: DataKey | str) -> dict[str, Any]:
    if isinstance(correction, PersonRegistered | PersonRegisteredV2):
        return {}  # a second registration of one person id does not happen; ignore it as before
    changes = {name: getattr(correction, name) for name in _CLEAR if getattr(correction, name) is not None}
    if "sex" in changes:
        changes["sex"] = correction.sex.value  # type: ignore[union-attr]
    if isinstance(correction, PersonDetailsCorrected):
        return changes | {n: getattr(correction, n) for n in _PERSONAL if getattr(correction, n) is not None}
    if correction.personal_data is None:
        return changes
    opened = _open(
        correction.personal_data, key, correction.person_id, correction.event_type, PersonalDetailsCorrection
    )
    if isinstance(opened, str):
        unreadable = ("name", "address", "id_number", "phone")
        certificate = {"certificate_number": opened} if correction.certified else {}
        return changes | {name: opened for name in unreadable} | certificate
    return changes | {n: getattr(opened, n) for n in _PERSONAL if getattr(opened, n) is not None}


def _open(
    sealed: SealedPersonalData,
    key: DataKey | str,
    person_id: UUID,
    event_type: str,
    as_model: type[PersonalDetails] | type[PersonalDetailsCorrection],
) -> PersonalDetails | PersonalDetailsCorrection | str:
    if isinstance(key, str):
        return key
    try:
        return open_sealed(sealed, key, person_id=person_id, event_type=event_type, as_model=as_model)
    except SealBroken as broken:
        log.warning("personal data of person %s unreadable: %s", person_id, broken)
        return UNAVAILABLE


def _marker(value: str | None, marker: str) -> str | None:
    return None if value is None else marker


def _survey(survey: NeedSurveyed) -> YearSurvey:
    return YearSurvey(
        person_id=str(survey.person_id),
        street=survey.street,
        community=survey.community,
        has_needs=survey.has_needs,
        surveyed_on=survey.surveyed_on,
    )
