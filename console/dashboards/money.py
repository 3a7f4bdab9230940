"""The year's money on the dashboard: what each fund paid per 经费类别, and the shares of the levels of
government that pay (中央和省级、市县、区级 …), from settlement's GET /reports/spending (net of
claw-backs, within the clerk's accounts); the funds' names and levels are the policies'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.dashboards.charts import Cell, Chart, Row, Series, percent, percent_cell, yuan_cell
from console.settlement.accounts import LEVEL_LABELS, RULE_LABELS


@dataclass(frozen=True)
class Fund:
    """A paying fund as its policy names it, and its level of government when the clerk may read it."""

    name: str
    level: str | None = None


def spending_of(report: Mapping[str, Any]) -> tuple[dict[tuple[str, str], int], dict[str, Fund]]:
    """GET /reports/spending as the charts take it: net fen per (rule, fund), and each fund's name and level
    (settlement has already counted claw-backs out, and adjustments under the rule they adjust)."""
    flows = {(str(row["rule"]), str(row["fund"])): int(row["fen"]) for row in report["by_rule_and_fund"]}
    funds = {
        str(fund["account"]): Fund(str(fund["name"]), None if fund["level"] is None else str(fund["level"]))
        for fund in report["by_fund"]
    }
    return flows, funds


def spending_chart(flows: Mapping[tuple[str, str], int], year: int, funds: Mapping[str, Fund]) -> Chart:
    """Each rule's money per fund, stacked: how the year's spending divides by 经费类别."""
    paying = sorted({fund for _rule, fund in flows})
    names = [_name(fund, funds) for fund in paying]
    rules = [*RULE_LABELS, *sorted({rule for rule, _fund in flows} - set(RULE_LABELS))]

    def row(label: str, amounts: list[int]) -> Row:
        return Row(label, (*(yuan_cell(amount) for amount in amounts), yuan_cell(sum(amounts))))

    rows = tuple(
        row(RULE_LABELS.get(rule, rule), [flows.get((rule, fund), 0) for fund in paying]) for rule in rules
    )
    by_fund = [sum(amount for (_rule, fund), amount in flows.items() if fund == each) for each in paying]
    return Chart(
        key="spending",
        year=year,
        title="经费支出（按经费类别）",
        row_heading="经费类别",
        columns=(*(f"{name}（元）" for name in names), "合计（元）"),
        rows=rows,
        total=row("合计", by_fund),
        series=tuple(
            # One fund: each bar carries its amount; several: the stack's parts carry none, the table does.
            Series(index, "bar", stack="funds", name=name, labels=index if len(paying) == 1 else None)
            for index, name in enumerate(names)
        ),
        axes=("金额（元）",),
        notes=("按记账的业务日期计入本年度；追回（负数调整）从所调整的经费类别中扣除。",),
    )


def funding_chart(flows: Mapping[tuple[str, str], int], year: int, funds: Mapping[str, Fund]) -> Chart:
    """The year's spending by level of government, each level's funds named; by fund when a fund that
    paid has no level (no loaded policy names it)."""
    paid: dict[str, int] = {}
    for (_rule, fund), amount in flows.items():
        paid[fund] = paid.get(fund, 0) + amount
    whole = sum(paid.values())
    by_level = all(funds.get(fund, Fund(fund)).level is not None for fund in paid)
    groups: dict[str, list[str]] = {}
    for fund in sorted(paid):
        label = _level_name(funds[fund].level) if by_level else _name(fund, funds)
        groups.setdefault(label, []).append(fund)
    labels = (
        sorted(groups, key=lambda label: _level_order(funds[groups[label][0]].level))
        if by_level
        else list(groups)
    )
    rows = tuple(_share_row(label, groups[label], paid, whole, funds) for label in labels)
    note = (
        "各资金来源及其政府层级取自政策；占比为各层级本年度实付金额之比。"
        if by_level
        else "有的资金来源没有哪项政策写明其政府层级，这里按资金来源列出；占比为实付金额之比。"
    )
    return Chart(
        key="funding",
        year=year,
        title="经费来源（按政府层级）",
        row_heading="政府层级" if by_level else "资金来源",
        columns=("金额（元）", "占比（%）", "资金来源"),
        rows=rows,
        total=Row("合计", (yuan_cell(whole), percent_cell(percent(whole, whole)), Cell(None, ""))),
        series=(Series(0, "pie", labels=1),),
        notes=(note,),
    )


def _share_row(
    label: str, members: list[str], paid: Mapping[str, int], whole: int, funds: Mapping[str, Fund]
) -> Row:
    """A level's (or a fund's) amount, its share of the whole and the funds it is made of."""
    amount = sum(paid[fund] for fund in members)
    names = "、".join(_name(fund, funds) for fund in members)
    return Row(label, (yuan_cell(amount), percent_cell(percent(amount, whole)), Cell(None, names)))


def _level_order(level: str | None) -> int:
    """Levels from the central government down (中央和省级 first)."""
    levels = list(LEVEL_LABELS)
    return levels.index(level) if level in levels else len(levels)


def _name(fund: str, funds: Mapping[str, Fund]) -> str:
    return funds[fund].name if fund in funds else fund


def _level_name(level: str | None) -> str:
    return LEVEL_LABELS.get(level or "", level or "")
