"""The dashboards name things as a clerk does: a policy by its title, the jurisdiction by its name, an
unsettled reason in Chinese (its code only in the CSV, for a spreadsheet's lookups)."""

from __future__ import annotations

from typing import Any

from console.app import policy_titles
from console.dashboards.figures import coverage_chart
from console.dashboards.waiting import unsettled_chart
from console.error_pages import refusal_text

ROW = {"surveyed": 10, "with_needs": 4, "served": 2, "coverage_percent": "50.0", "target_percent": "80"}


def test_the_coverage_target_is_named_by_the_policys_title_not_its_id() -> None:
    coverage: dict[str, Any] = {
        "year": 2025,
        "streets": [{"street": "鸳鸯", **ROW}],
        "overall": ROW,
        "policy_id": "liangjiang-2024",
        "policy_version": 2,
    }
    notes = " ".join(coverage_chart(coverage, policy_titles()).notes)
    assert "目标取自《重庆两江新区残疾人精准康复服务行动实施方案》（第 2 版）" in notes
    assert "liangjiang" not in notes
    assert "liangjiang" not in " ".join(coverage_chart(coverage, {}).notes)  # a title unknown: no id either


def test_the_unsettled_reasons_code_is_in_the_csv_not_on_the_page() -> None:
    chart = unsettled_chart([{"code": "nothing_to_pay", "reason": "…", "person_id": "p1"}], 2025)
    assert chart.shown_columns == ("事项数", "涉及人数")
    assert chart.rows[0].label == "医保等支付后没有应补金额"
    sheet = chart.csv().decode("utf-8-sig")
    assert "原因代码" in sheet and "nothing_to_pay" in sheet


def test_a_year_without_task_numbers_names_the_jurisdiction_by_its_name() -> None:
    detail = "liangjiang 没有哪项政策规定 2025 年的任务数"
    places = {"liangjiang": "重庆两江新区"}
    said = refusal_text("settlement.year.no_quotas", detail, places)
    assert said == "重庆两江新区没有哪项政策规定 2025 年的任务数"
    assert refusal_text("settlement.other", detail, places) == detail
