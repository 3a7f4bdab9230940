"""The dashboard's charts of persons from settlement's reports as they answer: coverage per street,
monthly progress and quota use per county. The console only arranges what the service returns and
writes served / with needs with one decimal; every count, target and verdict is the service's."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from console.dashboards.charts import (
    Chart,
    Row,
    Series,
    Target,
    count_cell,
    percent,
    percent_cell,
    target_text,
    verdict_cell,
)
from console.labels import area_name

HUNDRED = Decimal(100)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(str(text))


def coverage_target(coverage: Mapping[str, Any]) -> Decimal | None:
    """The target a street is held to (the policy's per-area target, else the jurisdiction's)."""
    for row in (*coverage["streets"], coverage["overall"]):
        if row.get("target_percent") is not None:
            return _decimal(row["target_percent"])
    return None


# -- coverage per street -------------------------------------------------------------------------
COVERAGE_COLUMNS = ("调查人数", "有需求人数", "已服务人数", "覆盖率（%）", "目标（%）", "是否达标")


def coverage_chart(coverage: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> Chart:
    """GET /reports/coverage: one bar per street (served / with needs), the policy's target as a line."""
    target = coverage_target(coverage)
    names = [str(row["street"]) for row in coverage["streets"]]
    counties = bool(names) and all(name.endswith(("区", "县", "市")) for name in names)  # Anyang's 县、市、区
    year = int(coverage["year"])
    rows = tuple(
        _coverage_row(area_name(row["street"]), row, href=street_persons_link(str(row["street"]), year))
        for row in coverage["streets"]
    )
    policy = coverage.get("policy_id")
    notes = ["覆盖率 = 有康复需求并已接受服务的人数 ÷ 有康复需求的人数（按每人本年度最后一次调查计）。"]
    version = coverage.get("policy_version")
    title = (titles or {}).get(str(policy), "") if policy else ""
    named = f"《{title}》" if title else "结算政策"  # by its title: an id is for the service's readers
    notes.append(f"目标取自{named}（第 {version} 版）。" if policy else "本年度没有适用的政策目标。")
    return Chart(
        key="coverage",
        year=year,
        title="各县（市、区）康复服务覆盖率" if counties else "各街道康复服务覆盖率",
        row_heading="县（市、区）" if counties else "街道",
        columns=COVERAGE_COLUMNS,
        rows=rows,
        total=_coverage_row("全区合计", coverage["overall"]),
        series=(Series(3, "bar", labels=3),),
        axes=("覆盖率（%）",),
        axis_max=(max(HUNDRED, target or HUNDRED),),
        target=None if target is None else Target(target, target_text(target)),
        notes=tuple(notes),
    )


def street_persons_link(street: str, year: int) -> str:
    """The drill-down from a street's bar: the persons its coverage counts (dashboards/persons.py)."""
    return f"/dashboards/streets/{quote(street, safe='')}?year={year}"


def _coverage_row(label: str, row: Mapping[str, Any], href: str | None = None) -> Row:
    target = _decimal(row.get("target_percent"))
    return Row(
        label,
        (
            count_cell(row["surveyed"]),
            count_cell(row["with_needs"]),
            count_cell(row["served"]),
            percent_cell(percent(row["served"], row["with_needs"])),
            percent_cell(target),
            verdict_cell(row.get("target_met")),
        ),
        href=href,
    )


# -- monthly progress ----------------------------------------------------------------------------
PROGRESS_COLUMNS = ("已调查人数", "有需求人数", "已服务人数", "覆盖率（%）")


def progress_chart(progress: Mapping[str, Any], target: Decimal | None) -> Chart:
    """GET /reports/progress: the cumulative counts month by month, and coverage against the target."""
    rows = tuple(
        Row(
            f"{month['month']}月",
            (
                count_cell(month["surveyed"]),
                count_cell(month["with_needs"]),
                count_cell(month["served"]),
                percent_cell(percent(month["served"], month["with_needs"])),
            ),
        )
        for month in progress["months"]
    )
    return Chart(
        key="progress",
        year=int(progress["year"]),
        title="月度工作进展（累计）",
        row_heading="月份",
        columns=PROGRESS_COLUMNS,
        rows=rows,
        series=(Series(0, "line"), Series(1, "line"), Series(2, "line"), Series(3, "bar", axis=1)),
        axes=("人数（累计）", "覆盖率（%）"),
        axis_max=(None, max(HUNDRED, target or HUNDRED)),
        target=None if target is None else Target(target, target_text(target), axis=1),
        notes=("各月数字为年初至月底的累计人数（按调查日期、服务签字日期计）；12月即全年。",),
    )


# -- quota use per county ------------------------------------------------------------------------
QUOTA_COLUMNS = ("任务数", "已审批人数", "完成率（%）", "完成情况")


def quota_chart(use: Mapping[str, Any]) -> Chart:
    """GET /reports/quota-use: approved children per area as bars, each area's 任务数 as a marker."""
    rows = tuple(_quota_row(area["area"] or "（未填地区）", area) for area in use["areas"])
    notes = [f"任务数取自 {use['policy_id']} 第 {use['policy_version']} 版政策。"]
    if use.get("minimum"):
        notes.append("任务数为最低任务数（应救尽救），超过不受限制。")
    return Chart(
        key="quota",
        year=int(use["year"]),
        title=f"{use['programme']}任务完成情况",
        row_heading="地区",
        columns=QUOTA_COLUMNS,
        rows=rows,
        total=_quota_row("合计", use["total"]),
        series=(Series(1, "bar", labels=1), Series(0, "marker")),
        axes=("人数",),
        notes=tuple(notes),
    )


def _quota_row(label: str, area: Mapping[str, Any]) -> Row:
    return Row(
        label,
        (
            count_cell(area.get("quota")),
            count_cell(area["approved"]),
            percent_cell(percent(area["approved"], area["quota"]) if area.get("quota") else None),
            verdict_cell(area.get("met"), yes="已完成", no="未完成"),
        ),
    )
