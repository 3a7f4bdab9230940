"""Spreadsheets a street office uploads: read an xlsx or csv into numbered rows under known column labels,
and write the xlsx template with those labels.

No rules here: only the file format, the header row and the cells' raw values.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import IO, Any
from xml.parsers import expat

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kernel.domain.rejections import PayloadTooLarge

Cell = str | int | float | date | datetime | None

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_UNPACKED_BYTES = 96 * 1024 * 1024
"""What an xlsx may unpack to, all its parts together: a sheet of 20,000 rows unpacks to about 20 MB. The
worksheet itself is streamed row by row; the bound keeps the time to parse it bounded."""
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
"""What the shared strings may unpack to: openpyxl holds them all in memory while it reads, so a
shared-strings bomb of 66 KiB that unpacked to tens of MiB raised the service's memory by 80 MiB
(issue 14, defect 11). Excel's shared strings of 20,000 rows take a few MB."""
HEADER_SEARCH_ROWS = 10
"""The header row may follow a title row or two (表头); it is looked for in the first rows."""
MAX_CELLS_PER_ROW = 1024
"""Cells one worksheet row may hold: openpyxl builds a whole row before giving any of it, so a row of
3,000,000 empty cells (a 160 KB file) took 2 GB. The template has a few dozen columns."""
EXTRA_COLUMNS = 30
"""Columns read beyond the template's own (an office's 序号 and remarks may come first)."""
BLANK_ROWS = 1000
"""Blank rows a sheet may hold besides MAX_ROWS data rows (the template preformats 1,000): rows are
counted blank or not, so a row numbered 1,048,576 cannot make the import walk a million empty rows."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_SHARED_STRINGS = "sharedstrings.xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_DECORATION = re.compile(r"[\s\u3000*＊:：]")
_CHUNK = 1024 * 1024


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


@dataclass
class SheetStream:
    """A sheet being read: its header, then its data rows one at a time (``rows()``, read once).

    Reading the rows raises UnreadableSheet past MAX_ROWS data rows (as soon as the next one is met) or
    when there was none; ``rows_read`` counts the data rows given so far.
    """

    header_row: int
    columns: tuple[str, ...]
    """Canonical labels of the known columns present, in sheet order."""
    _grid: Iterator[tuple[Cell, ...]] = field(repr=False)
    _positions: dict[str, int] = field(repr=False)
    rows_read: int = 0

    def rows(self) -> Iterator[SheetRow]:
        positions = tuple(self._positions.items())
        last = self.header_row + MAX_ROWS + BLANK_ROWS
        for number, values in enumerate(self._grid, start=self.header_row + 1):
            if number > last:
                raise _unreadable(
                    f"表中数据和空行共超过 {MAX_ROWS + BLANK_ROWS} 行：一次最多导入 {MAX_ROWS} 行，"
                    "请删除多余的空行或分批导入",
                    "too_many_rows",
                    row=number,
                )
            if all(_blank(v) for v in values):
                continue
            if self.rows_read == MAX_ROWS:
                raise _unreadable(f"一次最多导入 {MAX_ROWS} 行，请分批导入", "too_many_rows")
            self.rows_read += 1
            width = len(values)
            yield SheetRow(number, {label: values[p] if p < width else None for label, p in positions})
        if not self.rows_read:
            raise _unreadable("表中没有数据行", "no_rows", row=self.header_row + 1)


def canonical_header(text: Any) -> str:
    """A header cell without spaces, stars and bracketed remarks: '身份证号（必填）' -> '身份证号'."""
    return _DECORATION.sub("", _BRACKETS.sub("", str(text or "")))


def read_sheet(data: bytes, filename: str | None, headers: Mapping[str, str], anchor: str) -> Sheet:
    """The whole sheet in memory (``open_sheet`` reads it a row at a time); for small sheets and tests."""
    with open_sheet(io.BytesIO(data), filename, headers, anchor) as sheet:
        rows = tuple(sheet.rows())
        return Sheet(sheet.header_row, sheet.columns, rows)


@contextmanager
def open_sheet(
    file: IO[bytes], filename: str | None, headers: Mapping[str, str], anchor: str
) -> Iterator[SheetStream]:
    """Open the first worksheet of an xlsx, or a csv (UTF-8 or GB18030), to read its rows one at a time.

    ``file``: a seekable binary file (an upload spooled to disk). ``headers`` maps every accepted spelling
    of a column (canonical form) to its label; the header row is the first of the first rows holding the
    ``anchor`` label. Blank rows are skipped. Memory stays bounded whatever the number of rows.
    """
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    if not size:
        raise _unreadable("上传的文件是空的", "empty_file")
    if size > MAX_BYTES:
        raise _unreadable(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批导入", "file_too_large")
    magic = file.read(4)
    file.seek(0)
    if magic == _XLS_MAGIC or (filename or "").lower().endswith(".xls"):
        raise _unreadable(
            "不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或 .csv 后上传", "unsupported_format"
        )
    columns = len(set(headers.values())) + EXTRA_COLUMNS
    with _xlsx_grid(file, columns) if magic == _XLSX_MAGIC else _csv_grid(file, columns) as grid:
        yield _under_header(grid, headers, anchor)


def _unreadable(reason: str, code: str, row: int = 0, column: str = "") -> UnreadableSheet:
    return UnreadableSheet([SheetProblem(row, column, reason, code)])


@contextmanager
def _xlsx_grid(file: IO[bytes], columns: int) -> Iterator[Iterator[tuple[Cell, ...]]]:
    """The first worksheet's rows, each cut to its first ``columns`` cells."""
    _check_unpacked_size(file)
    _check_row_widths(file)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise _unreadable(
            f"无法读取 xlsx 文件（{type(error).__name__}）：文件可能已损坏", "unreadable_file"
        ) from None
    try:
        yield workbook.worksheets[0].iter_rows(max_col=columns, values_only=True)
    finally:
        workbook.close()


def _check_row_widths(file: IO[bytes]) -> None:
    """Refuse a worksheet with a row of more than MAX_CELLS_PER_ROW cells before openpyxl reads it (it
    builds a whole row at once, and its read-only mode walks a sheet without a ``<dimension>`` through to
    size it): each worksheet's XML is scanned as it unpacks, a chunk at a time, with no tree kept."""
    try:
        with zipfile.ZipFile(file) as package:
            for name in _worksheet_parts(package):
                with package.open(name) as part:
                    _scan_rows(part)
    except _TooWide as wide:
        raise _unreadable(
            f"表格第 {wide.row} 行超过 {MAX_CELLS_PER_ROW} 列：文件可能含有大量无用的空单元格，"
            "请把数据复制到新的表格（只保留模板的列）后重新上传",
            "too_many_columns",
            row=wide.row,
        ) from None
    except (expat.ExpatError, KeyError, zipfile.BadZipFile, ValueError, OSError):
        pass  # openpyxl says why it cannot read it
    finally:
        file.seek(0)


def _worksheet_parts(package: zipfile.ZipFile) -> list[str]:
    """The package's worksheets: under xl/worksheets/, and any part [Content_Types].xml says is one."""
    names = [
        info.filename
        for info in package.infolist()
        if info.filename.lower().startswith("xl/worksheets/") and info.filename.lower().endswith(".xml")
    ]
    declared: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Override" and attributes.get("ContentType") == _WORKSHEET_TYPE:
            declared.append(attributes.get("PartName", "").lstrip("/"))

    with package.open("[Content_Types].xml") as types:
        parser = expat.ParserCreate()
        parser.StartElementHandler = start
        parser.ParseFile(types)
    present = set(package.namelist())
    return list(dict.fromkeys([*names, *(name for name in declared if name in present)]))


class _TooWide(Exception):
    def __init__(self, row: int) -> None:
        self.row = row


def _scan_rows(part: IO[bytes]) -> None:
    """Raise _TooWide at the first row of more than MAX_CELLS_PER_ROW cells."""
    rows = cells = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal rows, cells
        local = name.rpartition(":")[2]
        if local == "c":
            cells += 1
            if cells > MAX_CELLS_PER_ROW:
                raise _TooWide(rows)
        elif local == "row":
            number = attributes.get("r", "")
            rows, cells = int(number) if number.isdigit() else rows + 1, 0

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    while chunk := part.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _check_unpacked_size(file: IO[bytes]) -> None:
    """Refuse (413) an xlsx whose parts, or whose shared strings, unpack to more than their bound, from the
    zip's directory alone: nothing is unpacked. The sizes cannot lie: zipfile stops a part at its
    declared size."""
    try:
        with zipfile.ZipFile(file) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # openpyxl says why it cannot read it
    finally:
        file.seek(0)
    unpacked = sum(member.file_size for member in members)
    strings = sum(m.file_size for m in members if m.filename.lower().endswith(_SHARED_STRINGS))
    if unpacked > MAX_UNPACKED_BYTES or strings > MAX_SHARED_STRINGS_BYTES:
        raise PayloadTooLarge(
            f"表格解压后有 {unpacked / (1024 * 1024):.0f} MB，超过 {MAX_UNPACKED_BYTES // (1024 * 1024)} MB"
            f"（或其中文字超过 {MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB）："
            "文件可能已损坏或含有大量无用内容，请把数据复制到新的表格后重新上传",
            field="file",
            code="survey.file.unpacked_too_large",
        )


@contextmanager
def _csv_grid(file: IO[bytes], columns: int) -> Iterator[Iterator[tuple[Cell, ...]]]:
    """The csv's rows, each cut to its first ``columns`` fields."""
    text = io.TextIOWrapper(file, encoding=_csv_encoding(file), newline="")
    try:
        first_line = text.readline()
        text.seek(0)
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        yield (tuple(row[:columns]) for row in csv.reader(_without_nul(text), delimiter=delimiter))
    finally:
        text.detach()  # the caller closes the upload


def _csv_encoding(file: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 (Excel's GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(file, encoding):
            return encoding
    raise _unreadable("无法识别 csv 文件的编码：请保存为 UTF-8 或 GBK 编码", "unreadable_file")


def _decodes(file: IO[bytes], encoding: str) -> bool:
    """Whether the whole file decodes, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := file.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)


def _without_nul(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if "\x00" in line:
            raise _unreadable("文件不是 csv 或 xlsx 表格", "unsupported_format")
        yield line


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _under_header(grid: Iterator[tuple[Cell, ...]], headers: Mapping[str, str], anchor: str) -> SheetStream:
    """Find the header row in the first rows; the stream goes on from the row after it."""
    for index, values in enumerate(islice(grid, HEADER_SEARCH_ROWS)):
        if anchor in {headers.get(canonical_header(v)) for v in values}:
            header_number = index + 1
            positions = _positions(values, headers, header_number)
            return SheetStream(header_number, tuple(positions), grid, positions)
    raise _unreadable(
        f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有含“{anchor}”列的一行；请使用导入模板",
        "missing_header",
        row=1,
        column=anchor,
    )


def _positions(values: tuple[Cell, ...], headers: Mapping[str, str], header_number: int) -> dict[str, int]:
    positions: dict[str, int] = {}
    problems = []
    for position, value in enumerate(values):
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
    return positions


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
