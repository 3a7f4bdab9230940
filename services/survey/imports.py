"""Bulk import of a street's needs survey from a sheet: each row through the person aggregate, all or none.

The sheet is streamed (``open_sheet``) and decided in the command's unit of work a batch of rows at a
time (``import_survey_file``): each row's cells read, duplicates within the sheet found in a dict, the
ID numbers already registered found with one query per batch and those persons loaded with one more,
every row decided by the person aggregate, and the batch's events, outbox rows, keys and read tables
written with one INSERT of many rows each. Once any row has failed, nothing more is written and the
rest is only checked; at the end a failing sheet raises the report of every failing row and column, and
the unit rolls back what was written: a sheet with errors records nothing. A person already registered
(same ID number) only gets the year's survey; a new one is registered and surveyed.

Usable without HTTP: ``import_survey_file(unit, streets, campaign, file, filename)`` inside
``with store.transaction() as unit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import IO
from uuid import UUID

from kernel.domain.clock import today
from kernel.domain.rejections import CommandRejected
from kernel.store.bulk import Append, append_streams, load_streams
from kernel.store.store import UnitOfWork
from services.survey import keys, projection
from services.survey.domain import NO_COMMUNITY_LISTS, Person, PersonEvent
from services.survey.handlers import stream_of
from services.survey.identity import normalise
from services.survey.import_rows import (
    ANCHOR,
    HEADERS,
    ParsedRow,
    RowError,
    SurveyCampaign,
    missing_columns,
    parse_row,
    parse_rows,
    rejection_error,
)
from services.survey.sheet import SheetRow, UnreadableSheet, open_sheet, read_sheet
from services.survey.translation import domain_events, new_event

BATCH_ROWS = 500
"""Rows decided and written together: one registry query, one load and one INSERT per table per batch."""


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
    """A sheet read into rows, with the errors of its cells (for small sheets and tests)."""

    rows: list[ParsedRow]
    errors: list[RowError]
    row_count: int


@dataclass(frozen=True)
class _Decision:
    row: ParsedRow
    person_id: UUID
    version: int
    events: list[PersonEvent]


def import_survey_file(
    unit: UnitOfWork,
    streets: Sequence[str],
    campaign: SurveyCampaign,
    file: IO[bytes],
    filename: str | None,
    communities: Mapping[str, frozenset[str]] = NO_COMMUNITY_LISTS,
) -> list[ImportedRow]:
    """Import the sheet in ``file`` for ``campaign``; SheetRejected: the unit must roll back (the caller's
    ``with`` does), so nothing is recorded. ``communities``: the listed communities of each street."""
    sheet_import = _SheetImport(unit, streets, campaign, communities)
    try:
        with open_sheet(file, filename, HEADERS, ANCHOR) as sheet:
            if missing := missing_columns(sheet.header_row, sheet.columns):
                raise SheetRejected(missing, rows=sum(1 for _ in sheet.rows()))
            for batch in _batches(sheet.rows(), BATCH_ROWS):
                sheet_import.add(batch)
            rows = sheet.rows_read
    except UnreadableSheet as error:
        raise SheetRejected(
            [RowError(p.row, p.column, p.reason, p.code) for p in error.problems], rows=0
        ) from None
    if sheet_import.errors:
        raise SheetRejected(sheet_import.errors, rows=rows)
    return sheet_import.imported


def read_survey_sheet(campaign: SurveyCampaign, data: bytes, filename: str | None) -> SurveySheet:
    """Read a whole sheet's rows for ``campaign`` into memory; SheetRejected when it cannot be read."""
    try:
        sheet = read_sheet(data, filename, HEADERS, ANCHOR)
    except UnreadableSheet as error:
        raise SheetRejected(
            [RowError(p.row, p.column, p.reason, p.code) for p in error.problems], rows=0
        ) from None
    parsed, errors = parse_rows(sheet, campaign)
    return SurveySheet(parsed, errors, len(sheet.rows))


class _SheetImport:
    """The rows of one sheet, decided and written a batch at a time until the first failing row."""

    def __init__(
        self,
        unit: UnitOfWork,
        streets: Sequence[str],
        campaign: SurveyCampaign,
        communities: Mapping[str, frozenset[str]],
    ) -> None:
        self.unit = unit
        self.streets = streets
        self.communities = communities
        self.campaign = campaign
        self.today = today()
        self.errors: list[RowError] = []
        self.imported: list[ImportedRow] = []
        self.first_row_of: dict[str, int] = {}
        """Normalised ID number -> the first row holding it."""

    def add(self, batch: Sequence[SheetRow]) -> None:
        rows = [row for row in map(self._parsed, batch) if row is not None]
        holders = projection.persons_holding(
            self.unit.session, [normalise(r.details.id_number) for r in rows]
        )
        registered = self._registered(holders.values())
        decisions = []
        for row in rows:
            try:
                decisions.append(self._decide(row, holders, registered))
            except CommandRejected as rejection:
                self.errors.append(rejection_error(row.number, rejection))
        if not self.errors:  # after the first error, rows are only checked: the unit will roll back
            self._save(decisions)

    def _parsed(self, sheet_row: SheetRow) -> ParsedRow | None:
        """The row's details and survey, unless a cell is wrong or its ID number came before."""
        result = parse_row(sheet_row, self.campaign)
        if isinstance(result, list):
            self.errors.extend(result)
            return None
        id_number = normalise(result.details.id_number)
        first = self.first_row_of.setdefault(id_number, result.number)
        if first != result.number:
            self.errors.append(
                RowError(
                    result.number,
                    "身份证号",
                    f"与第 {first} 行的身份证号相同：同一人一年只调查一次，请删除重复行",
                    "duplicate_in_sheet",
                    "id_number",
                )
            )
            return None
        return result

    def _registered(self, person_ids: Iterable[UUID]) -> dict[UUID, tuple[Person, int]]:
        """The persons already registered, each with its version: two queries for the whole batch."""
        wanted = list(person_ids)
        if not wanted:
            return {}
        histories = load_streams(self.unit, [stream_of(person_id) for person_id in wanted])
        data_keys = keys.keys_of(self.unit.session, wanted)
        registered = {}
        for person_id in wanted:
            envelopes = histories[stream_of(person_id)]
            person = Person.from_history(domain_events(envelopes, data_keys.get(person_id)))
            registered[person_id] = (person, envelopes[-1].version)
        return registered

    def _decide(
        self, row: ParsedRow, holders: dict[str, UUID], registered: dict[UUID, tuple[Person, int]]
    ) -> _Decision:
        holder = holders.get(normalise(row.details.id_number))
        if holder is None:
            on_day: date = self.campaign.surveyed_on
            decided = Person().register(
                row.details,
                registered_on=on_day,
                today=self.today,
                streets=self.streets,
                communities=self.communities,
            )
            person, version = Person.from_history(decided), 0
            events: list[PersonEvent] = list(decided)
        else:
            person, version = registered[holder]
            _check_same_person(person, row, self.campaign)
            events = []
        events.extend(person.survey(row.needs, today=self.today))
        assert person.person_id is not None
        return _Decision(row, person.person_id, version, events)

    def _save(self, decisions: Sequence[_Decision]) -> None:
        """The batch's keys, events with their outbox rows, and read tables: one INSERT of many rows each."""
        new_persons = [decision.person_id for decision in decisions if decision.version == 0]
        data_keys = keys.create_keys(self.unit.session, new_persons)
        appends = [
            Append(
                stream_of(decision.person_id),
                decision.version,
                [new_event(event, data_keys.get(decision.person_id)) for event in decision.events],
            )
            for decision in decisions
        ]
        appended = append_streams(self.unit, appends)
        projection.project_many(
            self.unit.session,
            [
                pair
                for envelopes, decision in zip(appended, decisions, strict=True)
                for pair in zip(envelopes, decision.events, strict=True)
            ],
        )
        self.imported.extend(
            ImportedRow(
                row=decision.row.number,
                person_id=decision.person_id,
                survey_id=envelopes[-1].event_id,
                name=decision.row.details.name,
                newly_registered=decision.version == 0,
            )
            for envelopes, decision in zip(appended, decisions, strict=True)
        )


def _batches(rows: Iterator[SheetRow], size: int) -> Iterator[list[SheetRow]]:
    while batch := list(islice(rows, size)):
        yield batch


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
            # The street is not named: an error body must not tell where a person is registered.
            f"此人已登记在其他街道，不在本表的{campaign.street}街道：请由所在街道调查，或联系区残联办核实",
            field="street",
            code="survey.street.registered_in_other_street",
        )
