"""Bulk import of a street's needs survey from a sheet: each row through the person aggregate, all or none.

The sheet is read first (``read_survey_sheet``), then all rows are decided in the command's unit of
work (``import_survey_sheet``); if any row fails, nothing is appended and the whole report of failing
rows is raised. A person already registered (same ID number) only gets the year's survey; a new one is
registered and surveyed. Usable without HTTP: ``import_survey_sheet(unit, streets, campaign, sheet)``
inside ``with store.transaction() as unit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.store.store import UnitOfWork
from services.survey import projection
from services.survey.domain import Person, PersonEvent
from services.survey.handlers import load_to_decide, save_decided
from services.survey.identity import normalise
from services.survey.import_rows import (
    ANCHOR,
    HEADERS,
    ParsedRow,
    RowError,
    SurveyCampaign,
    parse_rows,
    rejection_error,
)
from services.survey.sheet import UnreadableSheet, read_sheet


class SheetRejected(Exception):
    """The sheet cannot be imported; ``errors`` name every failing row and column."""

    def __init__(self, errors: Sequence[RowError], rows: int) -> None:
        super().__init__(f"{len(errors)} errors in {rows} rows")
        self.errors = sorted(errors)
        self.rows = rows


@dataclass(frozen=True)
class ImportedRow:
    row: int
    person_id: UUID
    survey_id: UUID
    name: str
    newly_registered: bool


@dataclass(frozen=True)
class SurveySheet:
    """A sheet read into rows, with the errors of its cells (reported only if the import fails)."""

    rows: list[ParsedRow]
    errors: list[RowError]
    row_count: int


@dataclass(frozen=True)
class _Decision:
    row: ParsedRow
    person_id: UUID
    version: int
    events: list[PersonEvent]


def read_survey_sheet(campaign: SurveyCampaign, data: bytes, filename: str | None) -> SurveySheet:
    """Read the sheet's rows for ``campaign``; SheetRejected when it cannot be read at all."""
    try:
        sheet = read_sheet(data, filename, HEADERS, ANCHOR)
    except UnreadableSheet as error:
        raise SheetRejected(
            [RowError(p.row, p.column, p.reason, p.code) for p in error.problems], rows=0
        ) from None
    parsed, errors = parse_rows(sheet, campaign)
    return SurveySheet(parsed, errors, len(sheet.rows))


def import_survey_sheet(
    unit: UnitOfWork, streets: Sequence[str], campaign: SurveyCampaign, sheet: SurveySheet
) -> list[ImportedRow]:
    """Import a sheet for ``campaign`` (street, year, date, surveyor); SheetRejected: nothing appended."""
    decisions, rejected = _decide(unit, streets, campaign, sheet.rows)
    if sheet.errors or rejected:
        raise SheetRejected([*sheet.errors, *rejected], rows=sheet.row_count)
    return [_save(unit, decision) for decision in decisions]


def _decide(
    unit: UnitOfWork, streets: Sequence[str], campaign: SurveyCampaign, rows: Sequence[ParsedRow]
) -> tuple[list[_Decision], list[RowError]]:
    decisions, errors = [], []
    first_row_of: dict[str, int] = {}
    for row in rows:
        id_number = normalise(row.details.id_number)
        if id_number in first_row_of:
            errors.append(
                RowError(
                    row.number,
                    "身份证号",
                    f"与第 {first_row_of[id_number]} 行的身份证号相同：同一人一年只调查一次，请删除重复行",
                    "duplicate_in_sheet",
                    "id_number",
                )
            )
            continue
        first_row_of[id_number] = row.number
        try:
            decisions.append(_decide_row(unit, streets, campaign, row, id_number))
        except CommandRejected as rejection:
            errors.append(rejection_error(row.number, rejection))
    return decisions, errors


def _decide_row(
    unit: UnitOfWork, streets: Sequence[str], campaign: SurveyCampaign, row: ParsedRow, id_number: str
) -> _Decision:
    on_day: date = campaign.surveyed_on
    holder = projection.person_holding(unit.session, id_number)
    if holder is None:
        registered = Person().register(row.details, registered_on=on_day, today=today(), streets=streets)
        person, version = Person.from_history(registered), 0
        events: list[PersonEvent] = list(registered)
    else:
        person, version = load_to_decide(unit, holder)
        _check_same_person(person, row, campaign)
        events = []
    events.extend(person.survey(row.needs, today=today()))
    assert person.person_id is not None
    return _Decision(row, person.person_id, version, events)


def _check_same_person(person: Person, row: ParsedRow, campaign: SurveyCampaign) -> None:
    """An ID number already registered must be the same person, of this street: else it is a typo."""
    registered = person.details
    assert registered is not None
    if registered.name != row.details.name:
        raise CommandRejected(
            # Neither name is quoted: an error body must not tell who holds an ID number.
            "此身份证号已登记，登记的姓名与本行姓名不符："
            "请核对身份证号；如是姓名更正，请先单独更正此人的基本信息",
            field="id_number",
            code="survey.id_number.registered_as_other_name",
        )
    if registered.street != campaign.street:
        raise CommandRejected(
            f"此人已登记在{registered.street}街道，不在本表的{campaign.street}街道：请由所在街道调查，"
            "或先更正此人的街道",
            field="street",
            code="survey.street.registered_in_other_street",
        )


def _save(unit: UnitOfWork, decision: _Decision) -> ImportedRow:
    appended = save_decided(unit, decision.person_id, decision.version, decision.events)
    return ImportedRow(
        row=decision.row.number,
        person_id=decision.person_id,
        survey_id=appended[-1].event_id,
        name=decision.row.details.name,
        newly_registered=decision.version == 0,
    )
