"""Spreadsheet cells hold what was recorded as text, never a formula (CSV/formula injection).

openpyxl stores any string starting with ``=`` as a formula, and spreadsheet programs run a CSV field
starting with ``=``, ``+``, ``-`` or ``@`` as one: a name or an address typed as ``=HYPERLINK(...)`` would
become a live formula in the district's 附件3 or a statement.
"""

from __future__ import annotations

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(workbook: Workbook) -> Workbook:
    """Every cell openpyxl took for a formula is written as the text it was given (these documents have
    no formulas of their own)."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return workbook


def csv_text(value: str) -> str:
    """A CSV field a spreadsheet program shows as text: one that would start a formula is quoted with
    ``'`` (a number such as ``-12.50`` stays a number)."""
    if value.startswith(FORMULA_STARTS) and not _number(value):
        return "'" + value
    return value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
