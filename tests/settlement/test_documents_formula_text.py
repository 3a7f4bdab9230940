"""Recorded text reaches the district's spreadsheets as text, never as a formula: a person named "=1+1"
is a string cell of 附件3 (no <f> in the sheet), and a CSV field that would start a formula is quoted."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from openpyxl import load_workbook

from services.settlement.documents.annual_summary import CommunityForm, SummaryRow, annual_summary_xlsx
from services.settlement.documents.cells import csv_text
from services.settlement.documents.statements import Period, Statement, StatementLine, statement_csv

FORMULAS = ("=1+1", '=HYPERLINK("http://example.invalid","点击")', "@SUM(1)")


def summary_with(name: str, address: str, phone: str) -> bytes:
    row = SummaryRow(name, "男", address, "500112195804122318", "", phone, True, ("=2+2",), ("=3+3",))
    return annual_summary_xlsx([CommunityForm(2024, "鸳鸯", "金渝社区", (row,))])


def test_a_person_named_like_a_formula_is_a_string_cell_of_the_annual_summary() -> None:
    content = summary_with(FORMULAS[0], FORMULAS[1], "=4+4")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    typed = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row if cell.value}
    for text in (FORMULAS[0], FORMULAS[1], "=4+4", "=2+2", "=3+3"):
        assert typed[text] == "s", (text, typed.get(text))


def test_a_csv_field_that_would_start_a_formula_is_quoted_and_numbers_stay_numbers() -> None:
    assert [csv_text(text) for text in FORMULAS] == ["'" + text for text in FORMULAS]
    assert csv_text("-12.50") == "-12.50" and csv_text("+3") == "+3" and csv_text("张三") == "张三"
    line = StatementLine(date(2024, 5, 1), "=1+1", "-person", None, 100, "credit", "p-1")
    statement = Statement("person:x", "张三", Period.parse("2024"), (line,))
    text = statement_csv(statement).decode("utf-8-sig")
    assert "'=1+1" in text and "'-person" in text
