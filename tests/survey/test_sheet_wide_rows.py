"""A worksheet row of very many (empty) cells is refused before openpyxl builds it: a 160 KB xlsx with one
row of 3,000,000 cells drove the survey service to 2 GB. Only the template's columns (and a few more) are
read, and blank rows count towards the row limit."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

from fastapi.testclient import TestClient
from openpyxl import Workbook

from services.survey import sheet
from services.survey.imports import ANCHOR, HEADERS
from tests.problem_json import problem_of
from tests.survey.sheets import HEADERS as TEMPLATE_HEADERS
from tests.survey.sheets import base_row, xlsx_bytes

MiB = 1024 * 1024
WORKSHEET = "xl/worksheets/sheet1.xml"


def wide(cells: int) -> bytes:
    """The template's header and a person's row, then a row of ``cells`` empty cells."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([base_row()])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == WORKSHEET:
                row = '<row r="3">' + "<c/>" * cells + "</row></sheetData>"
                content = content.decode().replace("</sheetData>", row).encode()
            out.writestr(member, content)
    return buffer.getvalue()


def upload(client: TestClient, content: bytes) -> object:
    form = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
    return client.post(
        "/imports/surveys", data=form, files={"file": ("鸳鸯.xlsx", content, "application/octet-stream")}
    )


def codes(content: bytes) -> list[str]:
    try:
        sheet.read_sheet(content, "鸳鸯.xlsx", HEADERS, ANCHOR)
    except sheet.UnreadableSheet as unreadable:
        return [problem.code for problem in unreadable.problems]
    return []


def test_a_row_of_very_many_empty_cells_is_refused_in_chinese_before_it_is_built(client: TestClient) -> None:
    content = wide(300_000)
    assert len(content) < 64 * 1024

    tracemalloc.start()
    response = upload(client, content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    body = problem_of(response, 422)
    assert body["errors"][0]["code"].endswith("too_many_columns"), body
    assert "超过 1024 列" in body["errors"][0]["message"]
    assert body["errors"][0]["row"] == 3
    assert peak < 16 * MiB
    assert int(client.get("/health").json()["events"]["stored"]) == 0


def test_a_row_as_wide_as_a_spreadsheet_allows_is_read_up_to_the_template_columns_only() -> None:
    assert codes(wide(sheet.MAX_CELLS_PER_ROW)) == []
    assert codes(wide(sheet.MAX_CELLS_PER_ROW + 1)) == ["too_many_columns"]


def test_blank_rows_count_towards_the_row_limit() -> None:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.append(list(TEMPLATE_HEADERS))
    row = base_row()
    worksheet.append([row.get(header) for header in TEMPLATE_HEADERS])
    worksheet.cell(row=sheet.MAX_ROWS + sheet.BLANK_ROWS + 5, column=1, value=" ")
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert codes(buffer.getvalue()) == ["too_many_rows"]
