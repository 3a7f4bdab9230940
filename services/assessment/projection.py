"""The assessment service's own tables: the worklist fed by needs surveys, and its assessments and referrals.

Each is written in the same transaction as the event it follows (a consumed survey, or an own event).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from rehab_contracts import AssessmentCompleted, EventEnvelope, NeedSurveyed, ReferralIssued, parse_payload
from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy.orm import Session

from services.assessment.domain import CaseFacts, EarlierAssessment, SurveyedNeeds

tables = MetaData()

worklist_table = Table(
    "assessment_worklist",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("street", String(50), nullable=False, index=True),
    Column("community", String(50), nullable=False),
    Column("has_needs", Boolean, nullable=False),
    Column("needed_items", JSON, nullable=False),
    Column("home_visit_required", Boolean, nullable=False),
    Column("surveyed_on", Date, nullable=False),
    Column("certified", Boolean, nullable=False),
    Column("disability_categories", JSON),
    Column("survey_event_id", String(36), nullable=False),
    Column("supersedes_event_id", String(36)),
    Column("correlation_id", String(36), nullable=False),
)

records_table = Table(
    "assessment_records",
    tables,
    Column("assessment_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("year", Integer, nullable=False, index=True),
    Column("institution_id", String(100), nullable=False, index=True),
    Column("institution_level", String(20), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("assessed_needs", JSON, nullable=False),
    Column("referral_needed", Boolean, nullable=False),
)

referrals_table = Table(
    "assessment_referrals",
    tables,
    Column("referral_id", String(36), primary_key=True),
    Column("assessment_id", String(36), nullable=False, index=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("year", Integer, nullable=False, index=True),
    Column("from_institution_id", String(100), nullable=False),
    Column("to_institution_id", String(100), nullable=False),
    Column("to_kind", String(30), nullable=False),
    Column("items", JSON, nullable=False),
    Column("issued_on", Date, nullable=False),
)

AWAITING_ASSESSMENT = "awaiting_assessment"
AWAITING_REFERRAL = "awaiting_referral"
AWAITING_CITY_ASSESSMENT = "awaiting_city_assessment"
ASSESSED = "assessed"
OPEN_STATUSES = (AWAITING_ASSESSMENT, AWAITING_REFERRAL, AWAITING_CITY_ASSESSMENT)


@dataclass(frozen=True)
class Case:
    """The facts of a person's year, and the journey ids a new assessment continues."""

    facts: CaseFacts
    correlation_id: UUID | None
    survey_event_id: UUID | None


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[dict[str, Any]]


# -- following events --------------------------------------------------------------------------------
def follow_survey(session: Session, envelope: EventEnvelope, survey: NeedSurveyed) -> None:
    """Put the surveyed person's year on the worklist; a superseding survey replaces the earlier one."""
    key = (worklist_table.c.person_id == str(survey.person_id)) & (
        worklist_table.c.year == survey.survey_year
    )
    current = session.execute(select(worklist_table).where(key)).mappings().first()
    if current is not None and current["supersedes_event_id"] == str(envelope.event_id):
        return  # an older survey arriving after the one that corrected it
    session.execute(delete(worklist_table).where(key))
    session.execute(
        insert(worklist_table).values(
            person_id=str(survey.person_id),
            year=survey.survey_year,
            street=survey.street,
            community=survey.community,
            has_needs=survey.has_needs,
            needed_items=[item.value for item in survey.needed_items],
            home_visit_required=survey.home_visit_required,
            surveyed_on=survey.surveyed_on,
            certified=survey.certified,
            disability_categories=[category.value for category in survey.disability_categories],
            survey_event_id=str(envelope.event_id),
            supersedes_event_id=str(survey.supersedes_event_id) if survey.supersedes_event_id else None,
            correlation_id=str(envelope.correlation_id),
        )
    )


def project(session: Session, envelopes: Iterable[EventEnvelope]) -> None:
    """Follow this service's own newly appended events."""
    for envelope in envelopes:
        payload = parse_payload(envelope)
        if isinstance(payload, AssessmentCompleted):
            session.execute(
                insert(records_table).values(
                    assessment_id=str(payload.assessment_id),
                    person_id=str(payload.person_id),
                    year=payload.assessment_year,
                    institution_id=payload.institution_id,
                    institution_level=payload.institution_level.value,
                    assessed_on=payload.assessed_on,
                    mode=payload.mode.value,
                    assessed_needs=[item.value for item in payload.assessed_needs],
                    referral_needed=payload.referral_needed,
                )
            )
        elif isinstance(payload, ReferralIssued):
            year = session.scalar(
                select(records_table.c.year).where(
                    records_table.c.assessment_id == str(payload.assessment_id)
                )
            )
            session.execute(
                insert(referrals_table).values(
                    referral_id=str(payload.referral_id),
                    assessment_id=str(payload.assessment_id),
                    person_id=str(payload.person_id),
                    year=year,
                    from_institution_id=payload.from_institution_id,
                    to_institution_id=payload.to_institution_id,
                    to_kind=payload.to_kind.value,
                    items=[item.value for item in payload.items],
                    issued_on=payload.issued_on,
                )
            )


# -- queries -----------------------------------------------------------------------------------------
def case_of(session: Session, person_id: UUID, year: int) -> Case:
    row = (
        session.execute(
            select(worklist_table).where(
                (worklist_table.c.person_id == str(person_id)) & (worklist_table.c.year == year)
            )
        )
        .mappings()
        .first()
    )
    survey = _surveyed_needs(row) if row is not None else None
    earlier = tuple(
        EarlierAssessment(UUID(r["assessment_id"]), r["institution_id"], r["institution_level"])
        for r in _records(session, year, {str(person_id)})
    )
    escalated_to = frozenset(
        r["to_institution_id"]
        for r in _referrals(session, year, {str(person_id)})
        if r["to_kind"] == "assessment_institution"
    )
    return Case(
        facts=CaseFacts(survey=survey, earlier=earlier, escalated_to=escalated_to),
        correlation_id=UUID(row["correlation_id"]) if row else None,
        survey_event_id=UUID(row["survey_event_id"]) if row else None,
    )


@dataclass(frozen=True)
class Registered:
    """What the year's needs survey recorded of the person that a referral carries (None: not known)."""

    street: str | None = None
    community: str | None = None
    disability_categories: tuple[str, ...] | None = None
    """残疾类别; None for a survey followed before the worklist kept them."""


def registered(session: Session, person_id: UUID, year: int) -> Registered:
    """Street, community and disability categories of the year's needs survey (all None: not surveyed)."""
    column = worklist_table.c
    row = session.execute(
        select(column.street, column.community, column.disability_categories).where(
            (column.person_id == str(person_id)) & (column.year == year)
        )
    ).first()
    if row is None:
        return Registered()
    categories = tuple(row.disability_categories) if row.disability_categories else None
    return Registered(row.street, row.community, categories)


def _surveyed_needs(row: Any) -> SurveyedNeeds:
    return SurveyedNeeds(
        person_id=UUID(row["person_id"]),
        year=row["year"],
        has_needs=row["has_needs"],
        needed_items=tuple(row["needed_items"]),
        home_visit_required=row["home_visit_required"],
        surveyed_on=row["surveyed_on"],
        survey_event_id=UUID(row["survey_event_id"]),
    )


def worklist(
    session: Session,
    *,
    year: int,
    street: str | None,
    statuses: tuple[str, ...],
    institution: tuple[str, str] | None,
    limit: int,
    offset: int,
) -> Page:
    """Persons with needs in ``year``, each with where their assessment stands.

    ``institution`` is (id, level): a district institution sees who awaits a first assessment, a
    city institution who was escalated to it and awaits its assessment.
    """
    conditions = [worklist_table.c.year == year, worklist_table.c.has_needs.is_(True)]
    if street is not None:
        conditions.append(worklist_table.c.street == street)
    rows = [
        dict(row)
        for row in session.execute(
            select(worklist_table)
            .where(*conditions)
            .order_by(
                worklist_table.c.street,
                worklist_table.c.community,
                worklist_table.c.surveyed_on,
                worklist_table.c.person_id,
            )
        ).mappings()
    ]
    people = {row["person_id"] for row in rows}
    records, referrals = _records(session, year, people), _referrals(session, year, people)
    listed = []
    for row in rows:
        _add_progress(
            row,
            [r for r in records if r["person_id"] == row["person_id"]],
            [r for r in referrals if r["person_id"] == row["person_id"]],
        )
        if row["status"] in statuses and _concerns(row, institution):
            listed.append(row)
    return Page(len(listed), listed[offset : offset + limit])


def _add_progress(
    row: dict[str, Any], records: list[dict[str, Any]], referrals: list[dict[str, Any]]
) -> None:
    escalated_to = {r["to_institution_id"] for r in referrals if r["to_kind"] == "assessment_institution"}
    assessed_by = {r["institution_id"] for r in records}
    row["assessment_ids"] = [r["assessment_id"] for r in records]
    row["assessed_by"] = sorted(assessed_by)
    row["awaiting_institution_ids"] = sorted(escalated_to - assessed_by)
    referred = {r["assessment_id"] for r in referrals}
    if not records:
        row["status"] = AWAITING_ASSESSMENT
    elif any(r["referral_needed"] and r["assessment_id"] not in referred for r in records):
        row["status"] = AWAITING_REFERRAL
    elif row["awaiting_institution_ids"]:
        row["status"] = AWAITING_CITY_ASSESSMENT
    else:
        row["status"] = ASSESSED


def _concerns(row: dict[str, Any], institution: tuple[str, str] | None) -> bool:
    if institution is None:
        return True
    institution_id, level = institution
    if level == "city":
        return institution_id in row["awaiting_institution_ids"] or institution_id in row["assessed_by"]
    return row["status"] == AWAITING_ASSESSMENT or institution_id in row["assessed_by"]


def _records(session: Session, year: int, people: set[str]) -> list[dict[str, Any]]:
    query = select(records_table).where(records_table.c.year == year, records_table.c.person_id.in_(people))
    return [dict(r) for r in session.execute(query.order_by(records_table.c.assessed_on)).mappings()]


def _referrals(session: Session, year: int, people: set[str]) -> list[dict[str, Any]]:
    query = select(referrals_table).where(
        referrals_table.c.year == year, referrals_table.c.person_id.in_(people)
    )
    return [dict(r) for r in session.execute(query.order_by(referrals_table.c.issued_on)).mappings()]


def list_assessments(
    session: Session,
    *,
    year: int | None,
    person_id: UUID | None,
    institution_id: str | None,
    limit: int,
    offset: int,
) -> Page:
    conditions = []
    if year is not None:
        conditions.append(records_table.c.year == year)
    if person_id is not None:
        conditions.append(records_table.c.person_id == str(person_id))
    if institution_id is not None:
        conditions.append(records_table.c.institution_id == institution_id)
    rows = [
        dict(r)
        for r in session.execute(
            select(records_table)
            .where(*conditions)
            .order_by(records_table.c.assessed_on, records_table.c.assessment_id)
        ).mappings()
    ]
    return Page(len(rows), rows[offset : offset + limit])
