"""附件3 《…残疾人康复需求和康复服务情况汇总表》 per street and community, as xlsx, from the archive; the
title and the catalogue its notes name are the pack's (``forms.annual_summary``, ``forms.catalogue``).

One sheet per community 社区 in the seed's layout: title, （年度）, 街道/社区, the two header rows,
one row per person surveyed in the year, then 填表人 / 审核人 / 填表日期 and the form's notes.
Due by 20 December each year (每年 12 月 20 日前由街道汇总后上报).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet
from rehab_contracts import EventEnvelope
from rehab_contracts.sealed import UNAVAILABLE
from sqlalchemy import Engine

from kernel.access.audit import printable
from kernel.domain.clock import cn_date
from kernel.domain.rejections import CommandRejected
from kernel.reference import Jurisdiction
from kernel.reference.jurisdiction import Forms
from kernel.web.text_guard import hidden_characters, hidden_characters_message
from services.settlement.documents.cells import as_text
from services.settlement.documents.labels import SEXES, item_name
from services.settlement.documents.person_keys import PersonKeys
from services.settlement.documents.register import (
    REGISTER_EVENT_TYPES,
    PersonDetails,
    ServiceReceived,
    YearRegister,
    year_register,
)
from services.settlement.ledger.archive import archive

HEADERS = (
    "序号",
    "姓名",
    "性别",
    "家庭住址",
    "身份证号（必填）",
    "残疾人证号（持证残疾人必填）",
    "联系电话",
    "康复需求情况",
)
SERVICE_HEADER = "康复服务情况"
SERVICE_COLUMNS = ("得到康复服务项目", "康复服务机构名称")
FIRST_DATA_ROW = 6


def notes(catalogue: str) -> tuple[str, ...]:
    """The form's notes, the second naming the place's catalogue."""
    return (
        "注：1．此表由社区康复协调员填写。",
        f"2．“得到康复服务项目”依照《{catalogue}》“服务项目”填写。",
        "3．此表一式两份，每年12月20日前由街道汇总后上报，残联办、街道各留存一份。",
    )


@dataclass(frozen=True)
class SummaryRow:
    """One person of the form: basic information, 有/无 needs, services and institutions received."""

    name: str
    sex: str
    address: str
    id_number: str
    certificate_number: str
    phone: str
    has_needs: bool
    services: tuple[str, ...]
    institutions: tuple[str, ...]


@dataclass(frozen=True)
class CommunityForm:
    year: int
    street: str
    community: str
    rows: tuple[SummaryRow, ...]
    forms: Forms = field(default_factory=Forms)
    """The pack's form titles: the sheet's title and the catalogue its notes name."""


FILLED_ON_MARGIN = timedelta(days=31)
"""How far after today 填表日期 may be: a form dated ahead for its deadline (12月20日), not a typo's year."""


@dataclass(frozen=True)
class Signatures:
    """The footer: 填表人, 审核人 and 填表日期; blank fields are left for the pen."""

    preparer: str = ""
    reviewer: str = ""
    filled_on: date | None = None

    def check(self, year: int, today: date) -> None:
        """Refuse (422 naming the field) what the printed form must not carry: a hidden or control
        character in a name (a bidi override reorders what is printed, a newline breaks the footer), a
        date before the form's year or later than a month after ``today``."""
        for name, text in (("preparer", self.preparer), ("reviewer", self.reviewer)):
            refuse_hidden_characters(name, text)
        if self.filled_on is None:
            return
        first, last = date(year, 1, 1), today + FILLED_ON_MARGIN
        if not first <= self.filled_on <= last:
            raise CommandRejected(
                f"填表日期应在 {cn_date(first)} 至 {cn_date(last)} 之间（不早于{year}年度，"
                f"不晚于今天后 {FILLED_ON_MARGIN.days} 天），这里是 {cn_date(self.filled_on)}",
                field="filled_on",
                code="settlement.filled_on.out_of_range",
            )


def refuse_hidden_characters(field_name: str, text: str) -> None:
    """422 ``request.control_character`` for a text holding a character the text guard refuses in bodies."""
    if hidden := hidden_characters(text):
        raise CommandRejected(
            hidden_characters_message(field_name, hidden), field=field_name, code="request.control_character"
        )


def refuse_unknown_community(
    recorded: Iterable[EventEnvelope], street: str, community: str, jurisdiction: Jurisdiction
) -> None:
    """422 for a community that is not the street's: not in its list when the pack lists its communities,
    else named by no registration, correction or survey of the street in any year (never an empty form
    for a mistyped name; a community whose persons are not surveyed yet this year still has its form)."""
    listed = jurisdiction.communities.listed.get(street)
    if listed is not None:
        if community not in listed:
            raise CommandRejected(
                f"{community} 不是{street}的社区，可选：{'、'.join(sorted(listed))}",
                field="community",
                code="settlement.community.unknown",
            )
        return
    named = {
        str(envelope.payload["community"])
        for envelope in recorded
        if envelope.payload.get("street") == street and envelope.payload.get("community")
    }
    if community not in named:
        known = f"；有记录的社区：{'、'.join(sorted(named))}" if named else ""
        raise CommandRejected(
            f"{street}没有社区“{community}”的登记或调查记录（该街道的社区名录未列出，按记录核对）{known}",
            field="community",
            code="settlement.community.unknown",
        )


def community_forms(
    register: YearRegister, street: str, community: str | None, jurisdiction: Jurisdiction
) -> list[CommunityForm]:
    """The forms of a street (one per community, by name), or of one community of it."""
    by_community: dict[str, list[SummaryRow]] = {}
    for person_id, survey in register.surveys.items():
        details = register.persons.get(person_id)
        if survey.street != street or details is None:
            continue
        if community is not None and survey.community != community:
            continue
        by_community.setdefault(survey.community, []).append(
            _row(details, survey.has_needs, register.services.get(person_id, []), jurisdiction)
        )
    if community is not None or not by_community:
        by_community.setdefault(community or "", [])  # an empty form rather than no workbook
    return [
        CommunityForm(
            register.year,
            street,
            name,
            tuple(sorted(rows, key=lambda row: (row.name, row.id_number))),
            jurisdiction.forms,
        )
        for name, rows in sorted(by_community.items())
    ]


def _row(
    details: PersonDetails, has_needs: bool, services: Iterable[ServiceReceived], jurisdiction: Jurisdiction
) -> SummaryRow:
    received = sorted(services, key=lambda service: (service.signed_on, service.item))
    items = tuple(dict.fromkeys(item_name(service.item) for service in received))
    institutions = tuple(
        dict.fromkeys(_institution(service.institution, jurisdiction) for service in received)
    )
    return SummaryRow(
        name=details.name,
        sex=SEXES.get(details.sex, details.sex),
        address=details.address,
        id_number=details.id_number,
        certificate_number=details.certificate_number or details.veteran_certificate_number or "",
        phone=details.phone,
        has_needs=has_needs,
        services=items,
        institutions=institutions,
    )


def _institution(institution_id: str, jurisdiction: Jurisdiction) -> str:
    found = jurisdiction.service_institution(institution_id)
    return institution_id if found is None else found.name


def annual_summary_forms(
    engine: Engine,
    year: int,
    street: str,
    community: str | None,
    jurisdiction: Jurisdiction,
    keys: PersonKeys | None = None,
) -> list[CommunityForm]:
    """The forms of a year from everything settlement has archived; personal details opened with ``keys``
    (`rehab annual-summary`: released to the operator's own token; default: settlement's, from the
    environment), asked for the persons of these forms only: 附件3 of one street releases (and the
    registry audits) no key of another street's persons."""
    envelopes = list(archive(engine, REGISTER_EVENT_TYPES))
    where = year_register(envelopes, year, PersonKeys()).surveys  # no key asked: only who is where
    if community is not None:
        refuse_unknown_community(envelopes, street, community, jurisdiction)
    wanted = {
        person
        for person, survey in where.items()
        if survey.street == street and community in (None, survey.community)
    }
    own = [envelope for envelope in envelopes if str(envelope.payload.get("person_id")) in wanted]
    return community_forms(year_register(own, year, keys), street, community, jurisdiction)


def unreadable_persons(forms: Iterable[CommunityForm]) -> int:
    """Persons whose personal fields read （不可用）: no key was released for them, so the form is not
    complete (a forgotten person's （已删除） is complete: their data is gone for good)."""
    return sum(1 for form in forms for row in form.rows if UNAVAILABLE in (row.name, row.id_number))


def forms_from_envelopes(
    envelopes: Iterable[EventEnvelope],
    year: int,
    street: str,
    community: str | None,
    jurisdiction: Jurisdiction,
) -> list[CommunityForm]:
    return community_forms(year_register(envelopes, year), street, community, jurisdiction)


# -- the workbook -------------------------------------------------------------------------------
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WIDTHS = (6, 10, 6, 36, 22, 26, 15, 12, 40, 30)


def annual_summary_xlsx(forms: list[CommunityForm], signatures: Signatures = Signatures()) -> bytes:
    """A workbook with one sheet per community form."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for form in forms:
        _sheet(workbook.create_sheet(_sheet_title(form.community)), form, signatures)
    buffer = io.BytesIO()
    as_text(workbook).save(buffer)
    return buffer.getvalue()


def _sheet_title(community: str) -> str:
    cleaned = "".join("_" if char in "[]:*?/\\" else char for char in printable(community))
    return cleaned[:31] or "社区"


def _sheet(sheet: Worksheet, form: CommunityForm, signatures: Signatures) -> None:
    sheet.merge_cells("A1:J1")
    sheet["A1"] = form.forms.annual_summary
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = _CENTRE
    sheet.merge_cells("A2:J2")
    sheet["A2"] = f"（{form.year}）年度"
    sheet["A2"].alignment = _CENTRE
    sheet.merge_cells("A3:E3")
    sheet["A3"] = f"街道：{printable(form.street)}"
    sheet.merge_cells("F3:J3")
    sheet["F3"] = f"社区：{printable(form.community)}"
    _headers(sheet)
    for number, row in enumerate(form.rows, start=1):
        _person(sheet, FIRST_DATA_ROW + number - 1, number, row)
    _footer(sheet, FIRST_DATA_ROW + len(form.rows) + 1, signatures, notes(form.forms.catalogue))
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"


def _headers(sheet: Worksheet) -> None:
    for index, header in enumerate(HEADERS):
        column = chr(ord("A") + index)
        sheet.merge_cells(f"{column}4:{column}5")
        sheet[f"{column}4"] = header
    sheet.merge_cells("I4:J4")
    sheet["I4"] = SERVICE_HEADER
    sheet["I5"], sheet["J5"] = SERVICE_COLUMNS
    for row in sheet.iter_rows(min_row=4, max_row=5, max_col=10):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = _CENTRE
            cell.border = _BOX


def _person(sheet: Worksheet, row_number: int, number: int, row: SummaryRow) -> None:
    values = (
        number,
        row.name,
        row.sex,
        row.address,
        row.id_number,
        row.certificate_number,
        row.phone,
        "有" if row.has_needs else "无",
        "、".join(row.services),
        "、".join(row.institutions),
    )
    for index, value in enumerate(values):
        # Text recorded before control characters were refused (issue 14) is shown escaped, never a 500.
        shown = printable(value) if isinstance(value, str) else value
        cell = sheet.cell(row=row_number, column=index + 1, value=shown)
        cell.border = _BOX
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if index in (4, 5, 6):
            cell.number_format = "@"  # ID, certificate and phone numbers stay text


def _footer(sheet: Worksheet, row_number: int, signatures: Signatures, form_notes: tuple[str, ...]) -> None:
    filled = signatures.filled_on
    filled_text = f"{filled.year}年{filled.month}月{filled.day}日" if filled is not None else "    年  月  日"
    sheet.cell(row=row_number, column=1, value=f"填表人：{signatures.preparer}")
    sheet.cell(row=row_number, column=5, value=f"审核人：{signatures.reviewer}")
    sheet.cell(row=row_number, column=8, value=f"填表日期：{filled_text}")
    for offset, note in enumerate(form_notes, start=2):
        sheet.cell(row=row_number + offset, column=1, value=note)
