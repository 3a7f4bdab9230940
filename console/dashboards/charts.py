"""A dashboard chart as one table: the rows and columns the page prints, the CSV writes and the browser
draws, so the picture, the table and the download can never show different figures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

Number = int | Decimal
SeriesKind = Literal["bar", "line", "pie", "marker"]
NONE_TEXT = "—"
"""What a cell without a figure shows (a street nobody with needs lives in has no coverage)."""


@dataclass(frozen=True)
class Cell:
    """One figure: the number drawn and written to the CSV, and the text the table shows."""

    value: Number | None
    text: str

    @property
    def plain(self) -> str:
        """The CSV's figure: no unit, no thousands separator; a verdict as its words; empty for none."""
        if self.value is not None:
            return str(self.value)
        return "" if self.text == NONE_TEXT else self.text


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    href: str | None = None
    """Where the row's label (and its bar) leads: a street's persons, for a drill-down."""


@dataclass(frozen=True)
class Series:
    """A column drawn: its index among ``Chart.columns``, how, on which value axis, in which stack."""

    column: int
    kind: SeriesKind
    axis: int = 0
    stack: str | None = None
    name: str | None = None
    labels: int | None = None
    """The column whose text labels each bar or slice (the table's own words: 85.7%, 12人)."""


@dataclass(frozen=True)
class Target:
    """The policy's target, drawn as a line across the chart on ``axis``."""

    value: Decimal
    label: str
    axis: int = 0


@dataclass(frozen=True)
class Chart:
    """One chart of the dashboard and the table of its figures."""

    key: str
    year: int
    title: str
    row_heading: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    series: tuple[Series, ...]
    axes: tuple[str, ...] = ()
    total: Row | None = None
    target: Target | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    axis_max: tuple[Decimal | None, ...] = ()
    empty: str | None = None
    """What the page says when nothing is drawn (default: the year has no figures yet)."""
    csv_only: int = 0
    """How many of the last columns only the CSV carries (settlement's reason codes: for a spreadsheet's
    lookups, not for the clerk reading the page)."""

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The columns the page's table shows."""
        return self.columns[: len(self.columns) - self.csv_only]

    @property
    def file_name(self) -> str:
        """The downloads' name: the year and the chart's Chinese title, e.g. 2025年各街道康复服务覆盖率."""
        return f"{self.year}年{self.title}"

    @property
    def drawable(self) -> bool:
        """Whether any drawn column has a figure (an empty year draws nothing: the page says so)."""
        drawn = {series.column for series in self.series}
        return any(row.cells[index].value not in (None, 0) for row in self.rows for index in drawn)

    def spec(self) -> dict[str, Any]:
        """What dashboards.js draws: categories, series with their numbers, axes and the target."""
        return {
            "key": self.key,
            "title": self.file_name,
            "file": self.file_name,
            "categories": [row.label for row in self.rows],
            "links": [row.href for row in self.rows] if any(row.href for row in self.rows) else None,
            "axes": [
                {
                    "name": name,
                    "unit": _unit(name),
                    "max": _number(self.axis_max[index]) if index < len(self.axis_max) else None,
                }
                for index, name in enumerate(self.axes)
            ],
            "series": [
                {
                    "name": series.name or self.columns[series.column],
                    "kind": series.kind,
                    "axis": series.axis,
                    "stack": series.stack,
                    "data": [_number(row.cells[series.column].value) for row in self.rows],
                    "labels": None
                    if series.labels is None
                    else [row.cells[series.labels].text for row in self.rows],
                }
                for series in self.series
            ],
            "target": None
            if self.target is None
            else {"value": _number(self.target.value), "label": self.target.label, "axis": self.target.axis},
        }

    def csv(self) -> bytes:
        """The table as CSV, UTF-8 with a byte-order mark so that Excel reads the Chinese right."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([self.row_heading, *self.columns])
        for row in (*self.rows, *([self.total] if self.total else [])):
            writer.writerow([row.label, *(cell.plain for cell in row.cells)])
        return buffer.getvalue().encode("utf-8-sig")


AXIS_UNITS = (("%", "%"), ("元", "元"), ("事项", "项"), ("申请", "份"))


def _unit(axis: str) -> str:
    """How the browser writes an axis's figures: 85.7%, 1,200.00元, 3项, 2份 or 12人."""
    return next((unit for word, unit in AXIS_UNITS if word in axis), "人")


def _number(value: Number | Decimal | None) -> float | int | None:
    """A figure for drawing only (JSON has no decimals); the table and the CSV keep the exact one."""
    if value is None or isinstance(value, int):
        return value
    return float(value)


# -- how figures read --------------------------------------------------------------------------
ONE_DECIMAL = Decimal("0.1")


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal (half up); None when the whole is 0."""
    if whole == 0:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def percent_cell(value: Decimal | None) -> Cell:
    if value is None:
        return Cell(None, NONE_TEXT)
    value = value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return Cell(value, f"{value}%")


def count_cell(value: int | None, unit: str = "人") -> Cell:
    return Cell(None, NONE_TEXT) if value is None else Cell(value, f"{value:,}{unit}")


def yuan_cell(fen: int) -> Cell:
    """Fen as yuan with two decimals: the table 1,234.50元, the CSV 1234.50."""
    value = Decimal(fen) / 100
    return Cell(value.quantize(Decimal("0.01")), f"{value:,.2f}元")


def verdict_cell(met: bool | None, yes: str = "达标", no: str = "未达标") -> Cell:
    """Whether a target is met, as the service judged it (no figure to draw)."""
    return Cell(None, {None: NONE_TEXT, True: yes, False: no}[met])


def target_text(target: Decimal) -> str:
    return f"目标 {target.quantize(ONE_DECIMAL)}%"
