"""Spreadsheets a street office uploads: read an xlsx or csv into numbered rows under known column labels,
and write the xlsx template with those labels.

No rules here: only the file format, the header row and the cells' raw values.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kernel.domain.rejections import PayloadTooLarge

Cell = str | int | float | date | datetime | None

MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
"""What an xlsx may unpack to, all its parts together: a full sheet of 5,000 rows unpacks to about 6 MB,
while a shared-strings bomb of 66 KiB unpacked to tens of MiB (issue 14, defect 11)."""
MAX_ROWS = 5000
HEADER_SEARCH_ROWS = 10
"""The header row may follow a title row or two (表头); it is looked for in the first rows."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_DECORATION = re.compile(r"[\s\u3000*＊:：]")


@dataclass(frozen=True)
class SheetProblem:
    """A problem of the file itself, or of one cell: row as the spreadsheet numbers it (1 = first row)."""

    row: int
    column: str
    reason: str
    code: str


class UnreadableSheet(Exception):
    """The upload is not a sheet that can be read; ``problems`` say why."""

    def __init__(self, problems: Sequence[SheetProblem]) -> None:
        super().__init__("; ".join(p.reason for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class SheetRow:
    number: int
    """Row number as shown by the spreadsheet program (the header row counts)."""
    cells: Mapping[str, Cell]
    """Canonical column label -> raw cell value."""


@dataclass(frozen=True)
class Sheet:
    header_row: int
    columns: tuple[str, ...]
    """Canonical labels of the known columns present, in sheet order."""
    rows: tuple[SheetRow, ...]


def canonical_header(text: Any) -> str:
    """A header cell without spaces, stars and bracketed remarks: '身份证号（必填）' -> '身份证号'."""
    return _DECORATION.sub("", _BRACKETS.sub("", str(text or "")))


def read_sheet(data: bytes, filename: str | None, headers: Mapping[str, str], anchor: str) -> Sheet:
    """Read the first worksheet of an xlsx, or a csv (UTF-8 or GB18030), into rows under known columns.

    ``headers`` maps every accepted spelling of a column (canonical form) to its label; the header row
    is the first of the first rows holding the ``anchor`` label. Blank rows are skipped.
    """
    if not data:
        raise _unreadable("上传的文件是空的", "empty_file")
    if len(data) > MAX_BYTES:
        raise _unreadable(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批导入", "file_too_large")
    if data.startswith(_XLS_MAGIC) or (filename or "").lower().endswith(".xls"):
        raise _unreadable(
            "不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或 .csv 后上传", "unsupported_format"
        )
    grid = _xlsx_grid(data) if data.startswith(_XLSX_MAGIC) else _csv_grid(data)
    return _rows_under_header(grid, headers, anchor)


def _unreadable(reason: str, code: str, row: int = 0, column: str = "") -> UnreadableSheet:
    return UnreadableSheet([SheetProblem(row, column, reason, code)])


def _xlsx_grid(data: bytes) -> list[tuple[Cell, ...]]:
    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise _unreadable(
            f"无法读取 xlsx 文件（{type(error).__name__}）：文件可能已损坏", "unreadable_file"
        ) from None
    try:
        worksheet = workbook.worksheets[0]
        grid: list[tuple[Cell, ...]] = []
        for values in worksheet.iter_rows(values_only=True):
            grid.append(tuple(values))
            if len(grid) > MAX_ROWS + HEADER_SEARCH_ROWS:
                break
        return grid
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes) -> None:
    """Refuse (413) an xlsx whose parts unpack to more than MAX_UNPACKED_BYTES, from the zip's directory
    alone: nothing is unpacked. The sizes cannot lie: zipfile stops a part at its declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(member.file_size for member in package.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # openpyxl says why it cannot read it
    if unpacked > MAX_UNPACKED_BYTES:
        raise PayloadTooLarge(
            f"表格解压后有 {unpacked / (1024 * 1024):.0f} MB，超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB："
            "文件可能已损坏或含有大量无用内容，请把数据复制到新的表格后重新上传",
            field="file",
            code="survey.file.unpacked_too_large",
        )


def _csv_grid(data: bytes) -> list[tuple[Cell, ...]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise _unreadable("无法识别 csv 文件的编码：请保存为 UTF-8 或 GBK 编码", "unreadable_file")
    if "\x00" in text:
        raise _unreadable("文件不是 csv 或 xlsx 表格", "unsupported_format")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows_under_header(grid: list[tuple[Cell, ...]], headers: Mapping[str, str], anchor: str) -> Sheet:
    header_index = next(
        (
            index
            for index, values in enumerate(grid[:HEADER_SEARCH_ROWS])
            if anchor in {headers.get(canonical_header(v)) for v in values}
        ),
        None,
    )
    if header_index is None:
        raise _unreadable(
            f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有含“{anchor}”列的一行；请使用导入模板",
            "missing_header",
            row=1,
            column=anchor,
        )
    header_number = header_index + 1
    positions: dict[str, int] = {}
    problems = []
    for position, value in enumerate(grid[header_index]):
        label = headers.get(canonical_header(value))
        if label is None:
            continue  # 序号 and other columns of the office's own
        if label in positions:
            problems.append(
                SheetProblem(header_number, label, f"表头中“{label}”列出现了两次", "duplicate_column")
            )
        positions[label] = position
    if problems:
        raise UnreadableSheet(problems)
    rows = []
    for index in range(header_index + 1, len(grid)):
        values = grid[index]
        if all(_blank(v) for v in values):
            continue
        cells = {label: values[p] if p < len(values) else None for label, p in positions.items()}
        rows.append(SheetRow(index + 1, cells))
    if not rows:
        raise _unreadable("表中没有数据行", "no_rows", row=header_number + 1)
    if len(rows) > MAX_ROWS:
        raise _unreadable(f"一次最多导入 {MAX_ROWS} 行，请分批导入", "too_many_rows")
    return Sheet(header_number, tuple(positions), tuple(rows))


# -- the template ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateColumn:
    label: str
    required: bool
    note: str
    text: bool = False
    """Formatted as text, so that long digit strings (ID numbers) keep every digit."""
    choices: tuple[str, ...] = ()
    example: str = ""


TEMPLATE_ROWS = 1000
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def template(title: str, columns: Sequence[TemplateColumn], notes: Sequence[str]) -> bytes:
    """An xlsx with the header row (required columns shaded), text-formatted ID columns, drop-down lists
    for closed vocabularies, and a second sheet 填写说明 explaining every column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        header = sheet.cell(row=1, column=number, value=column.label)
        header.font = Font(bold=True)
        if column.required:
            header.fill = _REQUIRED_FILL
        sheet.column_dimensions[letter].width = max(12, 2 * len(column.label) + 4, len(column.example) + 2)
        if column.text:
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=number).number_format = "@"
        if column.choices:
            validation = DataValidation(
                type="list", formula1=f'"{",".join(column.choices)}"', allow_blank=not column.required
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "填写说明", "示例"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in columns:
        guide.append([column.label, "必填" if column.required else "选填", column.note, column.example])
    guide.append([])
    for note in notes:
        guide.append([note])
    for letter, width in zip("ABCD", (16, 10, 70, 36), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
