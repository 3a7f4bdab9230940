"""The persons, surveys and services of a year from the archive: the edge where personal details are read.

Only the annual summary 附件3 needs names, ID numbers and addresses; they come from the survey's
PersonRegistered and PersonDetailsCorrected events that settlement archives, and are never posted
to the ledger (信息安全: the ledger names persons by id alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from rehab_contracts import EventEnvelope, parse_payload
from rehab_contracts.events import NeedSurveyed, PersonDetailsCorrected, PersonRegistered, ServiceDelivered

REGISTER_EVENT_TYPES = (
    PersonRegistered.event_type,
    PersonDetailsCorrected.event_type,
    NeedSurveyed.event_type,
    ServiceDelivered.event_type,
)
"""The archived events the register is read from."""

_CORRECTABLE = (
    "street",
    "community",
    "name",
    "sex",
    "address",
    "id_number",
    "certificate_number",
    "veteran_certificate_number",
    "phone",
)


@dataclass(frozen=True)
class PersonDetails:
    """Basic information 残疾人基本信息 as last registered or corrected."""

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


def year_register(envelopes: Iterable[EventEnvelope], year: int) -> YearRegister:
    """Read the register of ``year`` from archived envelopes, in archive order."""
    persons: dict[str, PersonDetails] = {}
    surveys: dict[str, list[tuple[str, YearSurvey]]] = {}
    superseded: set[str] = set()
    services: dict[str, list[ServiceReceived]] = {}
    for envelope in envelopes:
        payload = parse_payload(envelope)
        match payload:
            case PersonRegistered():
                persons[str(payload.person_id)] = _details(payload)
            case PersonDetailsCorrected():
                known = persons.get(str(payload.person_id))
                if known is not None:
                    persons[known.person_id] = _corrected(known, payload)
            case NeedSurveyed() if payload.survey_year == year:
                if payload.supersedes_event_id is not None:
                    superseded.add(str(payload.supersedes_event_id))
                surveys.setdefault(str(payload.person_id), []).append(
                    (str(envelope.event_id), _survey(payload))
                )
            case ServiceDelivered() if payload.service_year == year:
                received = ServiceReceived(
                    str(payload.person_id), payload.item.value, payload.institution_id, payload.signed_on
                )
                services.setdefault(received.person_id, []).append(received)
    standing: dict[str, YearSurvey] = {}
    for person, candidates in surveys.items():
        current = [survey for event_id, survey in candidates if event_id not in superseded]
        if current:
            standing[person] = current[-1]
    return YearRegister(year, persons, standing, services)


def _details(registered: PersonRegistered) -> PersonDetails:
    return PersonDetails(
        person_id=str(registered.person_id),
        street=registered.street,
        community=registered.community,
        name=registered.name,
        sex=registered.sex.value,
        address=registered.address,
        id_number=registered.id_number,
        certificate_number=registered.certificate_number,
        veteran_certificate_number=registered.veteran_certificate_number,
        phone=registered.phone,
    )


def _corrected(known: PersonDetails, correction: PersonDetailsCorrected) -> PersonDetails:
    changes = {
        name: getattr(correction, name) for name in _CORRECTABLE if getattr(correction, name) is not None
    }
    if "sex" in changes:
        changes["sex"] = changes["sex"].value
    return replace(known, **changes)


def _survey(survey: NeedSurveyed) -> YearSurvey:
    return YearSurvey(
        person_id=str(survey.person_id),
        street=survey.street,
        community=survey.community,
        has_needs=survey.has_needs,
        surveyed_on=survey.surveyed_on,
    )
