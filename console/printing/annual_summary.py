"""附件3 of a street as settlement writes it (its xlsx, read with the clerk's own token), laid out for
print: settlement keeps the only copy of who was surveyed and served, and serves it as a workbook with
one sheet per community in the seed's layout, which this module reads back row by row.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date

from fastapi import Request
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from console.web import Clerk, console_of
from printing import AnnualSummary, CommunityForm, SummaryRow

SETTLEMENT = "settlement"
PATH = "/reports/annual-summary"
FIRST_DATA_ROW = 6
"""Title, （年度）, 街道/社区 and the two header rows come first (services/settlement/documents)."""
COLUMNS = 10
UNAVAILABLE = "（不可用）"
"""What settlement writes in a personal field it holds no released key for (its person_keys.py)."""


class PersonsUnreadable(Exception):
    """Some persons' fields read （不可用）: a form that looks complete and is not is never printed."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"附件3 未生成：{count} 人的个人信息结算服务暂时无法读取（（不可用）），"
            "打印出的表格将不完整；请稍后重试，或联系管理员检查个人信息密钥的发放"
        )
        self.count = count


def annual_summary(
    request: Request,
    clerk: Clerk,
    *,
    year: int,
    street: str,
    community: str | None,
    preparer: str,
    reviewer: str,
    filled_on: date | None,
    purpose: str,
) -> AnnualSummary:
    params = {"year": year, "street": street, "community": community}
    workbook = console_of(request).agencies.download(
        SETTLEMENT, PATH, user=clerk.name, purpose=purpose, params=params
    )
    communities = tuple(read_communities(workbook.content))
    require_complete(communities)
    forms = request.app.state.jurisdiction.forms
    return AnnualSummary(
        year=year,
        street=street,
        communities=communities,
        preparer=preparer,
        reviewer=reviewer,
        filled_on=filled_on,
        title=forms.annual_summary,
        catalogue=forms.catalogue,
    )


def require_complete(communities: Iterable[CommunityForm]) -> None:
    """Raise ``PersonsUnreadable`` when a row's 姓名 or 身份证号 reads （不可用） (a forgotten person's
    （已删除） is complete: their data is gone for good)."""
    unreadable = sum(
        1 for form in communities for row in form.rows if UNAVAILABLE in (row.name, row.id_number)
    )
    if unreadable:
        raise PersonsUnreadable(unreadable)


def read_communities(content: bytes) -> Iterator[CommunityForm]:
    """Each sheet's community and its rows, as settlement wrote them."""
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield CommunityForm(_community(sheet), tuple(_rows(sheet)))
    finally:
        workbook.close()


def _community(sheet: Worksheet) -> str:
    for row in sheet.iter_rows(min_row=3, max_row=3, values_only=True):
        for value in row:
            if isinstance(value, str) and value.startswith("社区："):
                return value.removeprefix("社区：")
    return ""


def _rows(sheet: Worksheet) -> Iterator[SummaryRow]:
    for values in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_col=COLUMNS, values_only=True):
        if not isinstance(values[0], int):  # the footer (填表人) follows the last person
            return
        texts = ["" if value is None else str(value) for value in values]
        yield SummaryRow(
            name=texts[1],
            sex=texts[2],
            address=texts[3],
            id_number=texts[4],
            certificate_number=texts[5],
            phone=texts[6],
            has_needs=texts[7] == "有",
            services=_listed(texts[8]),
            institutions=_listed(texts[9]),
        )


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("、") if part)
