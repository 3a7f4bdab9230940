"""The reporting chain's monthly progress report 工作进展情况月报 and year-end summary 年终汇总表 on A4: the
reporting unit's row, then every unit below it indented under it (community → street → district → city →
province, each the sum of the rows under it), the header repeated on each page, 填表人 / 审核人 / 填表日期."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from printing.render import html_of, pdf_of

NOTES = (
    "注：1．逐级上报：社区 → 街道 → 区（县） → 市 → 省；每一级的数字为其下一级各单位之和。",
    "2．按每人截至统计日的最后一次需求调查计入所在街道、社区；覆盖率 = 已接受服务人数 ÷ 有康复需求人数。",
    "3．月报于每月底报送；年终汇总与附件3一并于12月20日前报送。",
)


@dataclass(frozen=True)
class ChainRow:
    """One reporting unit: its level, name, how deep it sits under the reporting unit, and its figures."""

    depth: int
    level_name: str
    name: str
    surveyed: int
    with_needs: int
    served: int
    coverage_percent: Decimal | None = None
    target_met: bool | None = None


@dataclass(frozen=True)
class Money:
    """The year-end summary's money: what each 经费类别 and each level of government paid, in fen."""

    title: str
    by_rule: tuple[tuple[str, int], ...]
    by_level: tuple[tuple[str, int], ...]
    total_fen: int


@dataclass(frozen=True)
class ChainReport:
    title: str
    reporter: str
    """The reporting unit with its level, e.g. 鸳鸯街道（街道）."""
    as_of: date
    rows: tuple[ChainRow, ...]
    target_percent: Decimal | None = None
    preparer: str = ""
    reviewer: str = ""
    filled_on: date | None = None
    money: Money | None = None
    """The year-end summary's spending table; None in a monthly report."""


def chain_report_html(report: ChainReport) -> str:
    return html_of("chain_report.html", report=report, NOTES=NOTES)


def chain_report_pdf(report: ChainReport) -> bytes:
    """The report on A4 portrait, the units' names indented by level."""
    return pdf_of(chain_report_html(report))
