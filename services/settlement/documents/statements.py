"""Statements 对账单 per payee and period (a month or a year), read from the ledger, as csv or xlsx.

A person payee is named from the archive's registration, opened with the key the registry releases (and
audits); a payee the ledger never saw and the reference data does not know is refused, not shown empty.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from rehab_contracts import EventEnvelope
from sqlalchemy import Engine, or_, select

from kernel.reference import Jurisdiction
from services.settlement.documents.cells import as_text, csv_text
from services.settlement.documents.labels import item_name, rule_name, yuan_plain
from services.settlement.documents.person_keys import PersonKeys
from services.settlement.documents.register import REGISTER_EVENT_TYPES, year_register
from services.settlement.ledger.archive import archive
from services.settlement.ledger.posting_rows import posting_of
from services.settlement.ledger.tables import postings_table

FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years a statement covers, as the services' year queries take them (``ge=2000, le=2100``)."""
PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2]))?$")
COLUMNS = ("日期", "规则", "人员编号", "服务项目", "金额（元）", "借/贷", "记账编号")
"""One line per posting; 借 when the account pays (a fund), 贷 when it is paid."""


class BadPeriod(ValueError):
    """A period that is neither ``YYYY`` nor ``YYYY-MM``."""


class UnknownPayee(LookupError):
    """An account no posting names and the jurisdiction's reference data does not know."""


@dataclass(frozen=True)
class Period:
    """A year or a month of business dates, both ends included."""

    label: str
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        found = PERIOD.match(text.strip())
        if found is None:
            raise BadPeriod(f"期间应为年份（如 2025）或月份（如 2025-03），这里是 {text!r}")
        year = int(found["year"])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise BadPeriod(f"期间的年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间，这里是 {text!r}")
        if found["month"] is None:
            return cls(found[0], date(year, 1, 1), date(year, 12, 31))
        month = int(found["month"])
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(found[0], date(year, month, 1), date.fromordinal(following.toordinal() - 1))


@dataclass(frozen=True)
class StatementLine:
    business_date: date
    rule: str
    person_id: str
    item: str | None
    amount_fen: int
    side: str
    posting_id: str


@dataclass(frozen=True)
class Statement:
    account: str
    account_name: str
    period: Period
    lines: tuple[StatementLine, ...]

    @property
    def credit_fen(self) -> int:
        """Total received by the account in the period (贷方合计)."""
        return sum(line.amount_fen for line in self.lines if line.side == "credit")

    @property
    def debit_fen(self) -> int:
        """Total paid by the account in the period (借方合计)."""
        return sum(line.amount_fen for line in self.lines if line.side == "debit")


def statement(engine: Engine, account: str, period: Period, names: Callable[[str], str]) -> Statement:
    """Every posting debiting or crediting ``account`` with a business date in the period."""
    table = postings_table
    query = (
        select(table)
        .where(or_(table.c.credit_account == account, table.c.debit_account == account))
        .where(table.c.business_date >= period.start, table.c.business_date <= period.end)
        .order_by(table.c.business_date, table.c.key)
    )
    with engine.connect() as connection:
        postings = [posting_of(row) for row in connection.execute(query)]
    lines = tuple(
        StatementLine(
            business_date=posting.business_date,
            rule=posting.rule,
            person_id=str(posting.inputs.get("person_id", "")),
            item=None if posting.inputs.get("item") is None else str(posting.inputs["item"]),
            amount_fen=posting.amount_fen,
            side="credit" if posting.credit_account == account else "debit",
            posting_id=str(posting.posting_id),
        )
        for posting in postings
    )
    return Statement(account, names(account), period, lines)


def check_payee(engine: Engine, account: str, jurisdiction: Jurisdiction) -> None:
    """Raise UnknownPayee unless a posting names ``account`` or it is a street or institution of the
    jurisdiction (a payee not paid yet has an empty statement; a mistyped one is no payee)."""
    kind, _, name = account.partition(":")
    known = (
        (kind == "street" and name in jurisdiction.streets)
        or (kind == "service_institution" and jurisdiction.service_institution(name) is not None)
        or (kind == "assessment_institution" and jurisdiction.assessment_institution(name) is not None)
    )
    if known:
        return
    table = postings_table.c
    query = select(table.key).where(or_(table.credit_account == account, table.debit_account == account))
    with engine.connect() as connection:
        if connection.execute(query.limit(1)).first() is not None:
            return
    raise UnknownPayee(
        f"没有这个收款方（payee）：{account}。账户形如 street:鸳鸯、service_institution:<机构编号>、"
        "person:<人员编号>；台账里的账户见 GET /ledger"
    )


def person_name(engine: Engine, person_id: str, keys: PersonKeys) -> str | None:
    """A person payee's name as last registered or corrected; None when settlement never archived them.

    Only this person's events are read, so only their key is asked for (one audited release).
    """
    own = [
        envelope for envelope in archive(engine, REGISTER_EVENT_TYPES) if _names_person(envelope, person_id)
    ]
    years = [int(envelope.payload["survey_year"]) for envelope in own if "survey_year" in envelope.payload]
    if not years:
        return None
    details = year_register(own, max(years), keys).persons.get(person_id)
    return None if details is None else details.name


def _names_person(envelope: EventEnvelope, person_id: str) -> bool:
    return str(envelope.payload.get("person_id", "")) == person_id


def _rows(statement: Statement) -> list[tuple[str, str, str, str, str, str, str]]:
    return [
        (
            line.business_date.isoformat(),
            rule_name(line.rule),
            line.person_id,
            "" if line.item is None else item_name(line.item),
            yuan_plain(line.amount_fen),
            "贷" if line.side == "credit" else "借",
            line.posting_id,
        )
        for line in statement.lines
    ]


def _title(statement: Statement) -> str:
    return f"对账单 {statement.account_name}（{statement.account}） 期间 {statement.period.label}"


def _totals(statement: Statement) -> list[tuple[str, str]]:
    totals = [("贷方合计（收款）", yuan_plain(statement.credit_fen))]
    if statement.debit_fen:
        totals.append(("借方合计（付款）", yuan_plain(statement.debit_fen)))
    totals.append(("笔数", str(len(statement.lines))))
    return totals


def statement_csv(statement: Statement) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(_title(statement))])
    writer.writerow(COLUMNS)
    writer.writerows([csv_text(field) for field in row] for row in _rows(statement))
    for label, value in _totals(statement):
        writer.writerow([label, "", "", "", value])
    return buffer.getvalue().encode("utf-8-sig")


def statement_xlsx(statement: Statement) -> bytes:
    """One sheet: title, column headings, one row per posting (dates as dates, yuan as numbers), totals."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"对账单 {statement.period.label}"
    sheet.append([_title(statement)])
    sheet["A1"].font = Font(bold=True)
    sheet.append(COLUMNS)
    for line, row in zip(statement.lines, _rows(statement), strict=True):
        sheet.append([line.business_date, *row[1:4], Decimal(row[4]), *row[5:]])
        sheet.cell(row=sheet.max_row, column=1).number_format = "yyyy-mm-dd"
    for label, value in _totals(statement):
        sheet.append([label, None, None, None, Decimal(value) if "." in value else int(value)])
    for cells in sheet.iter_rows(min_row=3, min_col=5, max_col=5):
        for cell in cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
    for row in sheet.iter_rows(min_row=2, max_row=2):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
    for column, width in zip("ABCDEFG", (12, 18, 38, 40, 14, 8, 38), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    as_text(workbook).save(buffer)
    return buffer.getvalue()


FORMATS = {
    "csv": ("text/csv; charset=utf-8", statement_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", statement_xlsx),
}
"""Media type and renderer of each statement format."""
