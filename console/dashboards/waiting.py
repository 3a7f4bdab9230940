"""What is waiting, as charts: facts settlement has not settled, by reason (GET /ledger/unsettled's stable
codes), and applications past their review deadline per street (approval's GET /applications/overdue).
The console counts the items each service returns; every reason and deadline is the service's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from console.dashboards.charts import Cell, Chart, Row, Series, count_cell
from console.labels import area_name

REASONS = {
    "awaiting_approval": "等待补助申请的审批结果",
    "application_refused": "补助申请未获批准",
    "record_unsigned": "服务记录未经本人或监护人签字",
    "other_person": "服务记录与申请不是同一人",
    "other_year": "服务记录与申请不在同一年度",
    "item_not_approved": "服务项目未经审批",
    "other_institution": "服务机构不是审批确定的机构",
    "no_policy": "业务日期没有适用的政策",
    "item_not_in_catalogue": "项目不在政策的服务目录内",
    "support_service_paid": "本年度支持性服务补贴已支付",
    "fee_unstated": "政策未规定该项经费标准",
    "tier_undecided": "补贴档次未确定（缺少年龄、类别或困难情况等信息）",
    "not_eligible": "本人情况不符合任何一档补助标准",
    "outside_range": "审批金额不在政策规定的范围内",
    "paid_once": "一次性补助已支付过",
    "standard_unstated": "政策未规定该项目的补助标准",
    "nothing_to_pay": "医保等支付后没有应补金额",
}
"""The short Chinese name of each of settlement's codes; an item's own reason names its item and dates."""


def unsettled_chart(items: Sequence[Mapping[str, Any]], year: int) -> Chart:
    """One bar per reason: how many facts wait for it and how many persons they concern."""
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        by_code.setdefault(str(item["code"]), []).append(item)
    codes = sorted(by_code, key=lambda code: (-len(by_code[code]), code))
    rows = tuple(
        _reason_row(REASONS.get(code) or str(by_code[code][0]["reason"]), by_code[code], code)
        for code in codes
    )
    return Chart(
        key="unsettled",
        year=year,
        title="未结算事项（按原因）",
        row_heading="原因",
        columns=("事项数", "涉及人数", "原因代码"),
        csv_only=1,  # the code for a spreadsheet's lookups; the page names each reason in Chinese
        rows=rows,
        total=_reason_row("合计", items) if rows else None,
        series=(Series(0, "bar", labels=0),),
        axes=("事项数",),
        notes=("结算系统当前尚未结算的全部事项（不分年度，按你的账号可见范围），每项的具体说明见“结算”页。",),
        empty="当前没有未结算的事项。",
    )


def _reason_row(label: str, items: Iterable[Mapping[str, Any]], code: str = "") -> Row:
    items = list(items)
    persons = {item["person_id"] for item in items if item.get("person_id")}
    return Row(label, (count_cell(len(items), "项"), count_cell(len(persons)), Cell(None, code)))


def overdue_chart(overdue: Sequence[Mapping[str, Any]], streets: Sequence[str], year: int) -> Chart:
    """One bar per street with overdue applications: how many, and the longest wait past the deadline."""
    by_street: dict[str, list[Mapping[str, Any]]] = {}
    for application in overdue:
        by_street.setdefault(str(application["street"]), []).append(application)
    names = [*(street for street in streets if street in by_street), *sorted(set(by_street) - set(streets))]
    rows = tuple(_overdue_row(area_name(street), by_street[street]) for street in names)
    return Chart(
        key="overdue",
        year=year,
        title="逾期未审批的申请（按街道）",
        row_heading="街道",
        columns=("逾期申请数", "最长逾期（工作日）"),
        rows=rows,
        total=_overdue_row("合计", overdue) if rows else None,
        series=(Series(0, "bar", labels=0),),
        axes=("申请数",),
        notes=(
            "材料齐全后超过辖区审核时限（工作日）仍未作出审批决定的申请，截至今天；"
            "辖区政策未规定审核时限时没有逾期。",
        ),
        empty="当前没有逾期未审批的申请。",
    )


def _overdue_row(label: str, applications: Sequence[Mapping[str, Any]]) -> Row:
    longest = max((int(each["working_days_overdue"]) for each in applications), default=None)
    return Row(label, (count_cell(len(applications), "份"), count_cell(longest, "个工作日")))
