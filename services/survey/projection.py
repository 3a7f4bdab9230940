"""The survey service's own read tables, written in the same transaction as the events they follow.

``survey_persons`` is also the index ID number -> person id that makes an ID number register once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from rehab_contracts import (
    EventEnvelope,
    NeedSurveyed,
    PersonDetailsCorrected,
    PersonRegistered,
    parse_payload,
)
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.eventing.clock import business_date
from services.eventing.errors import StateConflict

tables = MetaData()

persons_table = Table(
    "survey_persons",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("id_number", String(18), nullable=False, unique=True),
    Column("street", String(50), nullable=False, index=True),
    Column("community", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sex", String(10), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("certified", Boolean, nullable=False),
    Column("registered_on", Date, nullable=False),
)

surveys_table = Table(
    "survey_results",
    tables,
    Column("survey_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("survey_year", Integer, nullable=False, index=True),
    Column("street", String(50), nullable=False, index=True),
    Column("community", String(50), nullable=False),
    Column("surveyed_on", Date, nullable=False),
    Column("has_needs", Boolean, nullable=False),
    Column("needed_items", JSON, nullable=False),
    Column("home_visit_required", Boolean, nullable=False),
    Column("surveyor", String(200), nullable=False),
    Column("certified", Boolean, nullable=False),
    Column("supersedes", String(36)),
    Column("superseded_by", String(36)),
)


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[dict[str, Any]]


def project(session: Session, envelopes: Iterable[EventEnvelope]) -> None:
    """Follow newly appended person events."""
    for envelope in envelopes:
        payload = parse_payload(envelope)
        if isinstance(payload, PersonRegistered):
            _insert_person(session, payload, business_date(envelope.occurred_at))
        elif isinstance(payload, PersonDetailsCorrected):
            _correct_person(session, payload)
        elif isinstance(payload, NeedSurveyed):
            _insert_survey(session, envelope.event_id, payload)


def _insert_person(session: Session, payload: PersonRegistered, registered_on: date) -> None:
    values = {
        "person_id": str(payload.person_id),
        "id_number": payload.id_number,
        "street": payload.street,
        "community": payload.community,
        "name": payload.name,
        "sex": payload.sex.value,
        "birth_date": payload.birth_date,
        "certified": bool(payload.certificate_number or payload.veteran_certificate_number),
        "registered_on": registered_on,
    }
    try:
        with session.begin_nested():
            session.execute(insert(persons_table).values(values))
    except IntegrityError:
        # Two registrations of one ID number raced past the check: the unique index decides.
        raise StateConflict(
            f"身份证号 {payload.id_number} 已登记",
            field="id_number",
            code="survey.id_number.already_registered",
        ) from None


def _correct_person(session: Session, payload: PersonDetailsCorrected) -> None:
    changes: dict[str, Any] = {
        name: getattr(payload, name)
        for name in ("id_number", "street", "community", "name", "birth_date")
        if getattr(payload, name) is not None
    }
    if payload.sex is not None:
        changes["sex"] = payload.sex.value
    if payload.certificate_number is not None or payload.veteran_certificate_number is not None:
        changes["certified"] = True
    if changes:
        session.execute(
            update(persons_table).where(persons_table.c.person_id == str(payload.person_id)).values(changes)
        )


def _insert_survey(session: Session, event_id: UUID, payload: NeedSurveyed) -> None:
    session.execute(
        insert(surveys_table).values(
            survey_id=str(event_id),
            person_id=str(payload.person_id),
            survey_year=payload.survey_year,
            street=payload.street,
            community=payload.community,
            surveyed_on=payload.surveyed_on,
            has_needs=payload.has_needs,
            needed_items=[item.value for item in payload.needed_items],
            home_visit_required=payload.home_visit_required,
            surveyor=payload.surveyor,
            certified=payload.certified,
            supersedes=str(payload.supersedes_event_id) if payload.supersedes_event_id else None,
        )
    )
    if payload.supersedes_event_id is not None:
        session.execute(
            update(surveys_table)
            .where(surveys_table.c.survey_id == str(payload.supersedes_event_id))
            .values(superseded_by=str(event_id))
        )


# -- queries -----------------------------------------------------------------------------------------
def person_holding(session: Session, id_number: str) -> UUID | None:
    """The person registered with this ID number, if any."""
    found = session.scalar(select(persons_table.c.person_id).where(persons_table.c.id_number == id_number))
    return UUID(found) if found else None


def list_persons(
    session: Session,
    *,
    street: str | None,
    community: str | None,
    id_number: str | None,
    limit: int,
    offset: int,
) -> Page:
    conditions = []
    if street is not None:
        conditions.append(persons_table.c.street == street)
    if community is not None:
        conditions.append(persons_table.c.community == community)
    if id_number is not None:
        conditions.append(persons_table.c.id_number == id_number)
    query = select(persons_table).where(*conditions)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(
            persons_table.c.street,
            persons_table.c.community,
            persons_table.c.registered_on,
            persons_table.c.person_id,
        )
        .limit(limit)
        .offset(offset)
    ).mappings()
    return Page(total, [dict(row) for row in rows])


def list_surveys(
    session: Session,
    *,
    year: int | None,
    street: str | None,
    community: str | None,
    has_needs: bool | None,
    person_id: UUID | None,
    include_superseded: bool,
    limit: int,
    offset: int,
) -> Page:
    conditions = []
    if year is not None:
        conditions.append(surveys_table.c.survey_year == year)
    if street is not None:
        conditions.append(surveys_table.c.street == street)
    if community is not None:
        conditions.append(surveys_table.c.community == community)
    if has_needs is not None:
        conditions.append(surveys_table.c.has_needs == has_needs)
    if person_id is not None:
        conditions.append(surveys_table.c.person_id == str(person_id))
    if not include_superseded:
        conditions.append(surveys_table.c.superseded_by.is_(None))
    query = (
        select(surveys_table, persons_table.c.name)
        .join(persons_table, persons_table.c.person_id == surveys_table.c.person_id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(
            surveys_table.c.survey_year,
            surveys_table.c.street,
            surveys_table.c.community,
            surveys_table.c.surveyed_on,
            surveys_table.c.survey_id,
        )
        .limit(limit)
        .offset(offset)
    ).mappings()
    return Page(total, [dict(row) for row in rows])
