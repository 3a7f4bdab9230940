"""What the registry learns from the assessment and approval events: which institutions serve a person,
and how far each person's year has gone (assessed, referred, applied, decided).

The registry names no institution of its own (a street registers and surveys), yet it alone holds the
names: to release a name to an institution's clerk it must know that the institution serves the person
(docs/adr/0016-names-across-agencies.md). It learns that from the events the institutions' work already
publishes, kept here as read tables written in the same transaction as the consumed event's inbox row.
The same events tell the street office who has needs but was not yet assessed or applied for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

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
from sqlalchemy import Column, Date, Integer, String, Table, insert, select, update
from sqlalchemy.orm import Session

from kernel.messaging.consumer import Subscription
from kernel.store.store import UnitOfWork
from services.survey.projection import tables

__all__ = [
    "ASSESSED",
    "CHANGED_TO",
    "ITEM_APPROVED",
    "REFERRED",
    "institution_relations_table",
    "person_years_table",
    "persons_served_by",
    "subscriptions",
]

ASSESSED = "assessed"
"""The assessment institution that assessed the person (评估机构)."""
REFERRED = "referred"
"""An institution the person was referred to: a service institution, or a city-level assessment
institution the case was escalated to (转介)."""
ITEM_APPROVED = "item_approved"
"""The service institution 区残联办 fixed for an approved item (服务机构)."""
CHANGED_TO = "changed_to"
"""The service institution an approved item was changed to (变更)."""

institution_relations_table = Table(
    "survey_institution_persons",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("institution_id", String(100), primary_key=True, index=True),
    Column("relation", String(20), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("since", Date, nullable=False),
)
"""Person <-> institution, one row per way the institution came to serve the person in a year.

Rows are never removed: an institution that served a person keeps reading the name its own records
concern (after a change of institution, the old one's service records still name the person).
"""

person_years_table = Table(
    "survey_person_years",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("assessed_on", Date),
    Column("referred_on", Date),
    Column("applied_on", Date),
    Column("decided_on", Date),
    Column("decision", String(20)),
)
"""How far a person's year has gone after the survey: the street office's 'not yet assessed / applied'."""

cases_table = Table(
    "survey_cases",
    tables,
    Column("case_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
)
"""The year of an assessment or application, for the events that do not carry it (referral, rejection)."""


# -- consumed events -------------------------------------------------------------------------------
def on_assessment_completed(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """The institution that assessed now serves the person; the person's year is assessed."""
    assert isinstance(payload, AssessmentCompleted)
    session = unit.session
    _remember_case(session, payload.assessment_id, payload.person_id, payload.assessment_year)
    _relate(
        session,
        payload.person_id,
        payload.institution_id,
        ASSESSED,
        payload.assessment_year,
        payload.assessed_on,
    )
    _mark(session, payload.person_id, payload.assessment_year, assessed_on=payload.assessed_on)


def on_referral_issued(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """The institution referred (or escalated) to serves the person from now on."""
    assert isinstance(payload, ReferralIssued)
    session = unit.session
    year = _year_of(session, payload.assessment_id) or payload.issued_on.year
    _relate(session, payload.person_id, payload.to_institution_id, REFERRED, year, payload.issued_on)
    if payload.to_kind == "service_institution":
        _mark(session, payload.person_id, year, referred_on=payload.issued_on)


def on_application_submitted(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """The person applied (附件2) for the year."""
    assert isinstance(payload, ApplicationSubmitted)
    session = unit.session
    _remember_case(session, payload.application_id, payload.person_id, payload.application_year)
    _mark(session, payload.person_id, payload.application_year, applied_on=payload.submitted_on)


def on_application_approved(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """Each approved item's service institution serves the person; the year's application is decided."""
    assert isinstance(payload, ApplicationApproved)
    session = unit.session
    year = payload.application_year
    for item in payload.approved_items:
        if item.institution_id is not None:
            _relate(session, payload.person_id, item.institution_id, ITEM_APPROVED, year, payload.approved_on)
    _mark(session, payload.person_id, year, decided_on=payload.approved_on, decision="approved")


def on_application_rejected(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """The year's application is decided (refused)."""
    assert isinstance(payload, ApplicationRejected)
    session = unit.session
    year = _year_of(session, payload.application_id) or payload.rejected_on.year
    _mark(session, payload.person_id, year, decided_on=payload.rejected_on, decision="rejected")


def on_institution_change_approved(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
    """The new service institution of an item serves the person (the old one keeps what it had)."""
    assert isinstance(payload, InstitutionChangeApproved)
    _relate(
        unit.session,
        payload.person_id,
        payload.to_institution_id,
        CHANGED_TO,
        payload.application_year,
        payload.approved_on,
    )


def subscriptions() -> list[Subscription]:
    """The assessment and approval events the registry follows; every other type is only archived."""
    return [
        Subscription(
            ASSESSMENT_STREAM,
            {
                AssessmentCompleted.event_type: on_assessment_completed,
                ReferralIssued.event_type: on_referral_issued,
            },
        ),
        Subscription(
            APPROVAL_STREAM,
            {
                ApplicationSubmitted.event_type: on_application_submitted,
                ApplicationApproved.event_type: on_application_approved,
                ApplicationRejected.event_type: on_application_rejected,
                InstitutionChangeApproved.event_type: on_institution_change_approved,
            },
        ),
    ]


def _remember_case(session: Session, case_id: UUID, person_id: UUID, year: int) -> None:
    if _year_of(session, case_id) is None:
        session.execute(insert(cases_table).values(case_id=str(case_id), person_id=str(person_id), year=year))


def _year_of(session: Session, case_id: UUID) -> int | None:
    found: int | None = session.scalar(
        select(cases_table.c.year).where(cases_table.c.case_id == str(case_id))
    )
    return found


def _relate(
    session: Session, person_id: UUID, institution_id: str, relation: str, year: int, since: date
) -> None:
    """One row per (person, institution, relation, year); a redelivered event finds it there."""
    table = institution_relations_table.c
    key = {"person_id": str(person_id), "institution_id": institution_id, "relation": relation, "year": year}
    found = session.execute(
        select(table.since).where(*(getattr(table, name) == value for name, value in key.items()))
    ).first()
    if found is None:
        session.execute(insert(institution_relations_table).values(**key, since=since))


def _mark(session: Session, person_id: UUID, year: int, **steps: Any) -> None:
    """Record the step's date (the first one seen stays: a correction does not move an assessment)."""
    table = person_years_table.c
    where = (table.person_id == str(person_id), table.year == year)
    row = session.execute(select(person_years_table).where(*where)).mappings().first()
    if row is None:
        session.execute(insert(person_years_table).values(person_id=str(person_id), year=year, **steps))
        return
    changes = {name: value for name, value in steps.items() if name == "decision" or row[name] is None}
    if "decided_on" in steps:  # the latest decision is the one that stands
        changes["decided_on"] = steps["decided_on"]
    if changes:
        session.execute(update(person_years_table).where(*where).values(**changes))


# -- queries ---------------------------------------------------------------------------------------
def persons_served_by(session: Session, institution_id: str, person_ids: Iterable[UUID]) -> set[UUID]:
    """Those of ``person_ids`` the institution assessed, was referred to, or serves an approved item of."""
    asked = [str(person_id) for person_id in person_ids]
    if not asked:
        return set()
    table = institution_relations_table.c
    rows = session.execute(
        select(table.person_id)
        .where(table.institution_id == institution_id, table.person_id.in_(asked))
        .distinct()
    )
    return {UUID(row.person_id) for row in rows}


def years_of(session: Session, person_ids: Iterable[str], year: int) -> dict[str, dict[str, Any]]:
    """The progress rows of ``person_ids`` in ``year``, by person id."""
    asked = list(person_ids)
    if not asked:
        return {}
    table = person_years_table.c
    rows = session.execute(
        select(person_years_table).where(table.year == year, table.person_id.in_(asked))
    ).mappings()
    return {row["person_id"]: dict(row) for row in rows}


def persons_assessed(session: Session, person_ids: Iterable[str], year: int) -> set[str]:
    """Those of ``person_ids`` assessed in ``year``."""
    return {person_id for person_id, row in years_of(session, person_ids, year).items() if row["assessed_on"]}
