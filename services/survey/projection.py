"""The survey service's own read tables, written in the same transaction as the events they follow.

``survey_persons`` is also the index ID number -> person id that makes an ID number register once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from rehab_contracts import EventEnvelope
from rehab_contracts.sealed import REDACTED
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.domain.rejections import StateConflict
from services.survey.domain import (
    NeedSurveyed,
    PersonDetailsCorrected,
    PersonEvent,
    PersonForgotten,
    PersonRegistered,
)

FORGOTTEN_ID_PREFIX = "~"
"""``id_number`` of a forgotten person: ``~`` + 17 hex digits of the person id (unique, never a real ID)."""

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
    Column("disability_subtypes", JSON, nullable=False, server_default="[]"),
    Column("hardship_statuses", JSON, nullable=False, server_default="[]"),
    Column("residence_permit", Boolean, nullable=False, server_default=false()),
)


_INSERT_PERSON = insert(persons_table)
_INSERT_SURVEY = insert(surveys_table)
_PERSON_HOLDING = select(persons_table.c.person_id, persons_table.c.street, persons_table.c.community).where(
    persons_table.c.id_number == bindparam("id_number")
)
"""Cached statements with their values as parameters: a command compiles nothing."""


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[dict[str, Any]]


def project(session: Session, appended: Iterable[tuple[EventEnvelope, PersonEvent]]) -> None:
    """Follow newly appended person events (each with the domain event it records, details in clear)."""
    for envelope, event in appended:
        if isinstance(event, PersonRegistered):
            _insert_person(session, event)
        elif isinstance(event, PersonDetailsCorrected):
            _correct_person(session, event)
        elif isinstance(event, NeedSurveyed):
            _insert_survey(session, envelope.event_id, event)
        elif isinstance(event, PersonForgotten):
            _forget_person(session, event)


def project_many(session: Session, appended: Sequence[tuple[EventEnvelope, PersonEvent]]) -> None:
    """``project`` for many persons' events at once (the sheet import): their registrations in one INSERT
    of many rows, their plain surveys in another, any other event as ``project`` does, after them.

    No savepoint: an ID number registered meanwhile raises StateConflict and the caller's unit rolls back.
    """
    persons = [_person_row(event) for _, event in appended if isinstance(event, PersonRegistered)]
    surveys = [
        _survey_row(envelope.event_id, event)
        for envelope, event in appended
        if isinstance(event, NeedSurveyed) and event.supersedes is None
    ]
    if persons:
        try:
            session.execute(insert(persons_table), persons)
        except IntegrityError:
            raise StateConflict(
                "表中有身份证号刚被登记（另一操作同时登记），请重新上传",
                field="id_number",
                code="survey.id_number.already_registered",
            ) from None
    if surveys:
        session.execute(insert(surveys_table), surveys)
    project(
        session,
        (
            (envelope, event)
            for envelope, event in appended
            if not isinstance(event, PersonRegistered)
            and not (isinstance(event, NeedSurveyed) and event.supersedes is None)
        ),
    )


def persons_holding(session: Session, id_numbers: Sequence[str]) -> dict[str, UUID]:
    """ID number -> the person registered with it, for those of ``id_numbers`` registered (one query)."""
    query = select(persons_table.c.id_number, persons_table.c.person_id).where(
        persons_table.c.id_number.in_(id_numbers)
    )
    return {row.id_number: UUID(row.person_id) for row in session.execute(query)}


def _person_row(event: PersonRegistered) -> dict[str, Any]:
    details = event.details
    return {
        "person_id": str(event.person_id),
        "id_number": details.id_number,
        "street": details.street,
        "community": details.community,
        "name": details.name,
        "sex": details.sex,
        "birth_date": details.birth_date,
        "certified": details.certified,
        "registered_on": event.registered_on,
    }


def _insert_person(session: Session, event: PersonRegistered) -> None:
    details = event.details
    try:
        session.connection().execute(_INSERT_PERSON, _person_row(event))
    except IntegrityError:
        # Two registrations of one ID number raced past the check: the unique index decides. No
        # savepoint: the refusal rolls the command's whole unit back (as the sheet import's does).
        raise StateConflict(
            f"身份证号 {details.id_number} 已登记",
            field="id_number",
            code="survey.id_number.already_registered",
        ) from None


def _correct_person(session: Session, event: PersonDetailsCorrected) -> None:
    changes: dict[str, Any] = {
        name: event.changes[name]
        for name in ("id_number", "street", "community", "name", "sex", "birth_date")
        if name in event.changes
    }
    if event.changes.get("certificate_number") or event.changes.get("veteran_certificate_number"):
        changes["certified"] = True
    if changes:
        session.execute(
            update(persons_table).where(persons_table.c.person_id == str(event.person_id)).values(changes)
        )


def _forget_person(session: Session, event: PersonForgotten) -> None:
    """Drop the identifying columns; the ID number index forgets the number too."""
    row = session.execute(
        select(persons_table.c.birth_date).where(persons_table.c.person_id == str(event.person_id))
    ).first()
    if row is None:
        return
    session.execute(
        update(persons_table)
        .where(persons_table.c.person_id == str(event.person_id))
        .values(
            id_number=FORGOTTEN_ID_PREFIX + event.person_id.hex[:17],
            name=REDACTED,
            birth_date=row.birth_date.replace(day=1),
        )
    )


def _survey_row(event_id: UUID, event: NeedSurveyed) -> dict[str, Any]:
    return {
        "survey_id": str(event_id),
        "person_id": str(event.person_id),
        "survey_year": event.survey_year,
        "street": event.street,
        "community": event.community,
        "surveyed_on": event.surveyed_on,
        "has_needs": event.has_needs,
        "needed_items": list(event.needed_items),
        "home_visit_required": event.home_visit_required,
        "surveyor": event.surveyor,
        "certified": event.certified,
        "supersedes": str(event.supersedes) if event.supersedes else None,
        "disability_subtypes": list(event.disability_subtypes),
        "hardship_statuses": list(event.hardship_statuses),
        "residence_permit": event.residence_permit,
    }


def _insert_survey(session: Session, event_id: UUID, event: NeedSurveyed) -> None:
    session.connection().execute(_INSERT_SURVEY, _survey_row(event_id, event))
    if event.supersedes is not None:
        session.execute(
            update(surveys_table)
            .where(surveys_table.c.survey_id == str(event.supersedes))
            .values(superseded_by=str(event_id))
        )


# -- queries -----------------------------------------------------------------------------------------
class Holder(NamedTuple):
    """The person registered with an ID number, and where."""

    person_id: UUID
    street: str
    community: str | None


def person_holding(session: Session, id_number: str) -> Holder | None:
    """The person registered with this ID number, if any."""
    found = session.connection().execute(_PERSON_HOLDING, {"id_number": id_number}).first()
    return None if found is None else Holder(UUID(found[0]), found[1], found[2])


def communities(session: Session, *, street: str | None, community: str | None) -> list[tuple[str, int]]:
    """(社区, persons registered in it) of an area, by name: what a registration form suggests."""
    query = select(persons_table.c.community, func.count()).group_by(persons_table.c.community)
    if street is not None:
        query = query.where(persons_table.c.street == street)
    if community is not None:
        query = query.where(persons_table.c.community == community)
    return [(name, count) for name, count in session.execute(query.order_by(persons_table.c.community))]


def list_persons(
    session: Session,
    *,
    street: str | None,
    community: str | None,
    id_number: str | None,
    limit: int,
    offset: int,
    name: str | None = None,
    id_number_ending: str | None = None,
) -> Page:
    """Persons of an area, by ID number, part of the name (姓名) or last characters of the ID number;
    a forgotten person is never found by name or ID number."""
    conditions = []
    if street is not None:
        conditions.append(persons_table.c.street == street)
    if community is not None:
        conditions.append(persons_table.c.community == community)
    if id_number is not None:
        conditions.append(persons_table.c.id_number == id_number)
    if name is not None:
        conditions.append(persons_table.c.name.contains(name, autoescape=True))
    if id_number_ending is not None:
        conditions.append(persons_table.c.id_number.endswith(id_number_ending, autoescape=True))
    if name is not None or id_number_ending is not None:
        conditions.append(~persons_table.c.id_number.startswith(FORGOTTEN_ID_PREFIX, autoescape=True))
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
    return Page(total, [_readable(dict(row)) for row in rows])


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """A person row as queries show it: a forgotten person's ID number reads as redacted."""
    if str(row.get("id_number", "")).startswith(FORGOTTEN_ID_PREFIX):
        row.update(id_number=REDACTED, birth_date=None)
    return row


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
