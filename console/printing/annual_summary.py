"""附件3 of a street as settlement writes it (its xlsx, read with the clerk's own token), laid out for
print: settlement keeps the only copy of who was surveyed and served, and serves it as a workbook with
one sheet per community in the seed's layout, which this module reads back row by row.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
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
    return AnnualSummary(
        year=year,
        street=street,
        communities=tuple(read_communities(workbook.content)),
        preparer=preparer,
        reviewer=reviewer,
        filled_on=filled_on,
    )


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
