"""The dashboards in the browser after a year of work in every street: each chart is drawn (one bar per
street, the target as a line), its table holds the figures settlement reports to the test over its API,
and its pictures and figures download as SVG, PNG and CSV named by the year and the chart's title."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
from openpyxl import load_workbook
from rehab_contracts import EventEnvelope
from rehab_contracts.events import ApplicationApproved, ApplicationSubmitted, ServiceDelivered
from rehab_contracts.streams import APPROVAL_STREAM, DELIVERY_STREAM

from console.dashboards.charts import percent
from console.dashboards.figures import quota_chart
from console.dashboards.money import Fund, funding_chart, spending_chart, spending_of
from console.dashboards.waiting import REASONS, overdue_chart, unsettled_chart
from kernel.access.auth import Agency, Role, Scope
from kernel.messaging.signing import KeyRing, sign
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses
from rehab.sample_people import STREETS
from rehab.users import User, set_console_password
from tests.console.conftest import (
    JOURNEY_YEAR,
    PASSWORD,
    VIEWPORT,
    Stack,
    _start_console,
    assert_accessible,
    login,
    screenshot,
)
from tests.console.phone import phone_page, too_wide
from tests.e2e.people import certified_adult
from tests.printing.pdf import compact, text_of
from tests.settlement.settlement_builders import envelope_of, payload_of

pytestmark = pytest.mark.e2e

SURVEYOR = "区统计调查员"
"""A survey clerk of the whole district, who registers and surveys persons in every street."""
ITEM = "support_service_midlife_blind"
FUND = "fund:liangjiang-finance"
BAR = "#1f5fa8"
"""dashboards.js's first colour: the coverage bars are the chart's only paths filled with it."""
TARGET = "#b3261e"
"""dashboards.js's colour of targets: the line across a chart, a county's 任务数 marker."""
ANYANG_CHILDREN = {"滑县": 3, "文峰区": 2, "北关区": 1}
"""Children approved for 儿童康复训练 in 2021 and trained, per county of Anyang (quotas: 200, 140, 90)."""
TRAINING = "children_rehab_training"
CENTRE = "ay-children-centre"


@pytest.fixture(scope="module")
def year(stack: Stack) -> int:
    """In every street one person surveyed with needs and one without; in 鸳鸯 one more approved and
    served. Returns the year, once settlement has consumed every event of it."""
    stack.directory.add(User(SURVEYOR, Agency("survey"), frozenset({Role("staff")}), Scope.parse("district")))
    journey = stack.journey(survey=SURVEYOR)
    for index, street in enumerate(STREETS):
        for offset, needs in enumerate(([ITEM], [])):
            person_id = journey.register(certified_adult(150 + 2 * index + offset, street=street))
            journey.survey(person_id, needs)
    application_id, person_id = stack.approved(170, [ITEM])
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    journey.deliver(application_id, person_id, ITEM, guardian=False)
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    return JOURNEY_YEAR


def test_each_chart_is_drawn_and_its_table_holds_the_figures_settlement_reports(
    pages: Any, stack: Stack, year: int
) -> None:
    finance = pages("财务科")
    finance.get_by_role("link", name="数据看板").click()
    finance.goto(f"/dashboards?year={year}")
    with stack.api("settlement", "财务科") as api:
        coverage = api.get("/reports/coverage", params={"year": year}).json()
        progress = api.get("/reports/progress", params={"year": year}).json()
        quotas = api.get("/reports/quota-use", params={"year": year})
        statement = api.get(f"/statements/{FUND}", params={"period": str(year), "format": "csv"}).text

    assert _bars(finance, "coverage") == len(STREETS) == len(coverage["streets"])
    assert f"目标 {Decimal(coverage['overall']['target_percent']):.1f}%" in _drawn_text(finance, "coverage")
    shown = _table(finance, "coverage")
    for row in coverage["streets"]:
        assert shown[f"{row['street']}街道"][:4] == _coverage_cells(row)
    assert shown["全区合计"][:4] == _coverage_cells(coverage["overall"])

    assert _drawn_text(finance, "progress")
    months = _table(finance, "progress")
    assert [months[f"{month['month']}月"] for month in progress["months"]] == [
        _coverage_cells(month) for month in progress["months"]
    ]

    by_rule = _statement_by_rule(statement)
    spending = _table(finance, "spending")
    for rule, fen in by_rule.items():
        assert spending[rule][-1] == _yuan(fen)
    assert spending["合计"][-1] == _yuan(sum(by_rule.values())) != _yuan(0)
    assert _table(finance, "funding") == {
        "区级财政": [_yuan(sum(by_rule.values())), "100.0%", "两江新区财政"],
        "合计": [_yuan(sum(by_rule.values())), "100.0%", ""],
    }
    assert _drawn_text(finance, "spending") and _drawn_text(finance, "funding")

    assert quotas.status_code == 404  # Liangjiang's policy sets no 任务数: the page says so, by names
    detail = quotas.json()["detail"]
    assert detail.startswith("liangjiang ")
    said = finance.locator("#quota").inner_text()
    assert "liangjiang" not in said and detail.replace("liangjiang ", "重庆两江新区") in said
    notes = finance.locator("#coverage").inner_text()
    assert "目标取自《重庆两江新区残疾人精准康复服务行动实施方案》" in notes
    assert "liangjiang-2024" not in notes
    assert_accessible(finance)
    screenshot(finance, "60-dashboards")


def test_the_dashboards_and_a_served_persons_page_fit_a_390_px_phone(
    browser: Any, stack: Stack, year: int
) -> None:
    """Nothing scrolls sideways on a phone: the wide tables (a served person's 康复服务记录, eight
    columns) scroll in their own box."""
    with stack.survey_api("鸳鸯调查员") as survey:
        found = survey.post("/persons:search", json={"id_number": certified_adult(170)["id_number"]})
    served = found.json()["items"][0]["person_id"]
    wide: dict[str, int] = {}
    for user, paths in (
        ("财务科", [f"/dashboards?year={year}", "/dashboards/streets/鸳鸯?year=" + str(year)]),
        ("鸳鸯街道结算员", [f"/dashboards?year={year}"]),
        ("审计员", [f"/dashboards?year={year}", f"/persons/{served}"]),
        ("区残联办负责人", [f"/dashboards/approval?year={year}"]),
    ):
        page = phone_page(browser, stack, user)
        wide |= {f"{user} {path}": beyond for path, beyond in too_wide(page, paths).items()}
        screenshot(page, f"62-phone-{user}")
        page.context.close()
    assert not wide, wide


def test_a_chart_downloads_as_svg_png_and_csv_named_by_the_year_and_its_title(
    pages: Any, year: int, tmp_path: Path
) -> None:
    auditor = pages("审计员")
    auditor.goto(f"/dashboards?year={year}")
    name = f"{year}年各街道康复服务覆盖率"
    svg = _download(auditor, "#coverage button[data-download=svg]", tmp_path)
    assert svg.name == f"{name}.svg" and svg.read_text(encoding="utf-8").startswith("<svg")
    assert "鸳鸯街道" in svg.read_text(encoding="utf-8")
    png = _download(auditor, "#coverage button[data-download=png]", tmp_path)
    assert png.name == f"{name}.png" and png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = _download(auditor, "#coverage a[href^='/dashboards/coverage.csv']", tmp_path)
    assert table.name == f"{name}.csv" and table.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel
    rows = list(csv.reader(io.StringIO(table.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:4] == ["街道", "调查人数", "有需求人数", "已服务人数"]
    assert [row[0] for row in rows[1:]] == [*(f"{street}街道" for street in STREETS), "全区合计"]
    answer = auditor.request.get(f"/dashboards/coverage.csv?year={year}")
    assert answer.ok and answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.body() == table.read_bytes()


def test_quota_use_draws_each_countys_approved_children_against_its_task_number(
    browser: Any, anyang: Stack
) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", bypass_csp=True, base_url=anyang.url)
    page = context.new_page()
    login(page, "安阳财务科")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/dashboards?year=2021")
    with anyang.api("settlement", "安阳财务科") as api:
        use = api.get("/reports/quota-use", params={"year": 2021}).json()
    legend = 1  # the legend's swatch of each series is a path of its colour too
    assert _bars(page, "quota") == len(use["areas"]) + legend == 9 + legend  # a bar for 0 children too
    assert page.locator(f"#chart-quota svg path[fill='{TARGET}']").count() == 9 + legend  # each 任务数
    shown = _table(page, "quota")
    for area in use["areas"]:
        assert shown[area["area"]][:2] == [f"{area['quota']}人", f"{area['approved']}人"]
    assert shown["滑县"][1] == "3人" and shown["合计"][:2] == ["1,015人", "6人"]
    assert "最低任务数" in page.locator("#quota").inner_text()
    svg = _drawn_text(page, "quota")
    assert "2021年残疾儿童康复救助任务完成情况" in svg and "200人" in svg
    assert "各县（市、区）康复服务覆盖率" in page.locator("#coverage").inner_text()  # counties, no 街道
    with anyang.api("settlement", "安阳财务科") as api:
        funds = {row["account"]: row["balance_fen"] for row in api.get("/ledger").json()["accounts"]}
    levels = {label: cells[0] for label, cells in _table(page, "funding").items()}
    assert levels == {  # 滑县 65 / 35, elsewhere 50 / 50 (seed 004 三(三)), by the ledger's funds
        "中央和省级财政": _yuan(funds["fund:anyang-central-provincial"]),
        "市县财政": _yuan(funds["fund:anyang-city-county"]),
        "县级财政": _yuan(funds["fund:anyang-huaxian"]),
        "合计": _yuan(72_000_00),
    }
    assert_accessible(page)
    page.locator("#quota").evaluate("section => section.scrollIntoView()")
    screenshot(page, "62-dashboards-quotas")
    page.locator("#funding").evaluate("section => section.scrollIntoView()")
    screenshot(page, "63-dashboards-funding-levels")
    context.close()


def test_the_charts_draw_under_the_consoles_content_security_policy(
    browser: Any, stack: Stack, year: int
) -> None:
    from tests.console.conftest import VIEWPORT, login

    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=stack.url)  # CSP enforced
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security" in message.text else None,
    )
    login(page, "财务科")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/dashboards?year={year}")
    drawn = page.locator(".chart[data-drawn=true] svg").count()
    assert drawn == page.locator(".chart").count() >= 4  # every chart with figures: not the quotas
    assert refused == []
    context.close()


def test_a_streets_clerk_sees_the_bar_and_the_money_of_its_own_street(
    pages: Any, stack: Stack, year: int
) -> None:
    street = pages("鸳鸯街道结算员")
    street.goto(f"/dashboards?year={year}")
    with stack.api("settlement", "鸳鸯街道结算员") as api:
        coverage = api.get("/reports/coverage", params={"year": year}).json()
        statement = api.get("/statements/street:鸳鸯", params={"period": str(year), "format": "csv"}).text
    assert [row["street"] for row in coverage["streets"]] == ["鸳鸯"]
    assert _bars(street, "coverage") == 1
    assert list(_table(street, "coverage")) == ["鸳鸯街道", "全区合计"]
    paid = _statement_by_rule(statement, received=True)
    assert _table(street, "spending")["合计"][-1] == _yuan(sum(paid.values())) != _yuan(0)
    assert_accessible(street)
    screenshot(street, "61-dashboards-street")


def test_the_reporting_chains_reports_download_from_the_page_each_level_the_sum_of_the_one_below(
    pages: Any, stack: Stack, year: int, tmp_path: Path
) -> None:
    finance = pages("财务科")
    finance.goto(f"/dashboards?year={year}")
    finance.select_option("#r-level", "street")
    finance.select_option("#r-street", "鸳鸯")
    saved = _download(finance, "button[formaction='/dashboards/reports/year-end.xlsx']", tmp_path)
    with stack.api("settlement", "财务科") as api:
        coverage = api.get("/reports/coverage", params={"year": year}).json()
    yuanyang = next(row for row in coverage["streets"] if row["street"] == "鸳鸯")
    sheet = load_workbook(saved).active
    assert sheet["A1"].value == f"{year}年度残疾人精准康复服务工作年终汇总表"
    street = [cell.value for cell in sheet[5]][:5]
    assert street == ["街道", "鸳鸯街道", yuanyang["surveyed"], yuanyang["with_needs"], yuanyang["served"]]
    communities = [
        [cell.value for cell in row][:5] for row in sheet.iter_rows(min_row=6) if row[0].value == "社区"
    ]
    assert communities and [sum(row[index] for row in communities) for index in (2, 3, 4)] == street[2:]

    printed = finance.request.get(f"/dashboards/reports/progress.pdf?year={year}&month=12&level=district")
    assert printed.ok and printed.headers["content-type"] == "application/pdf"
    (tmp_path / "progress.pdf").write_bytes(printed.body())
    text = compact(text_of(printed.body()))
    overall = coverage["overall"]
    assert f"{year}年12月残疾人精准康复服务工作进展情况月报" in text
    assert f"重庆两江新区{overall['surveyed']}{overall['with_needs']}{overall['served']}" in text

    summary = finance.request.get(f"/dashboards/reports/year-end.pdf?year={year}&level=district")
    with stack.api("settlement", "财务科") as api:
        spending = api.get("/reports/spending", params={"year": year}).json()
    (tmp_path / "year-end.pdf").write_bytes(summary.body())
    money = compact(text_of(summary.body()))
    assert f"{year}年度经费支出（重庆两江新区）" in money
    # Both tables end in the year's total (how pdftotext orders the two columns depends on their rows).
    assert f"合计{_yuan(spending['total_fen'])}" in money and spending["total_fen"] > 0
    assert sum(level["fen"] for level in spending["by_level"]) == spending["total_fen"]
    assert sum(rule["fen"] for rule in spending["by_rule"]) == spending["total_fen"]

    clerk = pages("鸳鸯街道结算员")
    clerk.goto(f"/dashboards?year={year}")
    assert clerk.locator("#r-level option").all_inner_texts() == ["街道", "社区"]
    refused = clerk.request.get(f"/dashboards/reports/year-end.xlsx?year={year}&level=district")
    assert refused.status == 403 and "只能由区级" in refused.text()
    clerk.locator("#reports").scroll_into_view_if_needed()
    screenshot(clerk, "62-dashboards-reports")


def test_unsettled_facts_are_counted_by_reason_as_settlement_lists_them(
    pages: Any, stack: Stack, year: int
) -> None:
    _record_waiting_for_an_approval(stack, year)
    finance = pages("财务科")
    finance.goto(f"/dashboards?year={year}")
    with stack.api("settlement", "财务科") as api:
        listed = api.get("/ledger/unsettled", params={"limit": 500})
    items = listed.json()
    assert int(listed.headers["X-Total-Count"]) == len(items) > 0
    by_code: dict[str, int] = {}
    for item in items:
        by_code[item["code"]] = by_code.get(item["code"], 0) + 1
    shown = _table(finance, "unsettled")
    assert {label: cells[0] for label, cells in shown.items() if label != "合计"} == {
        REASONS[code]: f"{count}项" for code, count in by_code.items()
    }
    headings = finance.locator("#table-unsettled thead").inner_text()
    assert "原因代码" not in headings and all(len(cells) == 2 for cells in shown.values())
    assert shown["合计"][0] == f"{len(items)}项"
    assert _drawn_text(finance, "unsettled")
    finance.locator("#unsettled").scroll_into_view_if_needed()
    screenshot(finance, "64-dashboards-unsettled")
    assert finance.locator("#overdue").count() == 0  # finance's token reads no approval figures


def test_overdue_reviews_are_the_approval_offices_own_dashboard_and_the_auditors(
    pages: Any, stack: Stack, year: int
) -> None:
    office = pages("区残联办经办人")
    office.get_by_role("link", name="数据看板").click()
    office.wait_for_url("**/dashboards/approval**")
    with stack.api("approval", "区残联办经办人") as api:
        overdue = api.get("/applications/overdue").json()
    assert office.locator("section.dashboard").count() == 1
    assert office.locator("#overdue-title").inner_text() == "逾期未审批的申请（按街道）"
    assert len(_table(office, "overdue")) == len({each["street"] for each in overdue}) + (1 if overdue else 0)
    assert_accessible(office)
    screenshot(office, "65-dashboards-approval")
    office.goto(f"/dashboards?year={year}")  # settlement's charts are not theirs: back to their own page
    assert "/dashboards/approval" in office.url

    auditor = pages("审计员")
    auditor.goto(f"/dashboards?year={year}")
    assert auditor.locator("#overdue-title").count() == 1 and auditor.locator("#coverage").count() == 1


def test_a_streets_bar_leads_to_its_persons_by_name_and_each_to_the_persons_page(
    pages: Any, stack: Stack, year: int
) -> None:
    finance = pages("财务科")
    finance.goto(f"/dashboards?year={year}")
    finance.locator("#table-coverage a", has_text="鸳鸯街道").click()
    finance.wait_for_url("**/dashboards/streets/**")
    with stack.api("settlement", "财务科") as api:
        counted = api.get("/reports/coverage/persons", params={"year": year, "street": "鸳鸯"}).json()
    rows = finance.locator("#street-persons tbody tr")
    unseen = finance.locator(".notice").all_inner_texts()
    assert rows.count() + (int(unseen[0].split("另有 ")[1].split(" 人")[0]) if unseen else 0) == len(counted)
    assert rows.count() > 0, "the district's finance office reads the names of a street's persons"
    assert_accessible(finance)
    screenshot(finance, "63-dashboards-street-persons")
    name = rows.first.locator("th a").inner_text()
    rows.first.locator("th a").click()
    finance.wait_for_url("**/persons/**")
    assert name in finance.locator("main").inner_text()

    drawn = pages("审计员")
    drawn.goto(f"/dashboards?year={year}")
    drawn.locator(f"#chart-coverage svg path[fill='{BAR}']").first.click()
    drawn.wait_for_url("**/dashboards/streets/**")


def test_a_clerk_whose_token_settlement_refuses_is_told_so_in_chinese(pages: Any) -> None:
    street = pages("鸳鸯调查员")
    answer = street.goto("/dashboards")
    assert answer is not None and answer.status == 403
    said = street.locator("main").inner_text()
    assert "不能查看" in said and "区残联办的系统管理员" in said
    assert "settlement" not in said and "survey" not in said
    assert street.locator(".chart").count() == 0


# -- the console's own arithmetic: sums and rounding of what the reads return ------------------------
def test_the_money_charts_take_settlements_net_figures_per_rule_and_fund_as_they_are() -> None:
    report = {
        "year": 2025,
        "by_rule_and_fund": [
            {"rule": "survey_fee", "fund": FUND, "fen": 3000},
            {"rule": "service_subsidy", "fund": FUND, "fen": -10000},  # a claw-back only, this year
        ],
        "by_fund": [{"account": FUND, "name": "两江新区财政", "level": "district", "fen": -7000}],
    }
    flows, funds = spending_of(report)
    assert flows == {("survey_fee", FUND): 3000, ("service_subsidy", FUND): -10000}
    assert funds == {FUND: Fund("两江新区财政", "district")}
    rows = {row.label: row.cells[-1].text for row in spending_chart(flows, 2025, funds).rows}
    assert (rows["需求调查工作经费"], rows["康复服务项目补助"]) == ("30.00元", "-100.00元")


def test_the_years_money_is_shared_by_level_of_government_or_by_fund_when_a_fund_has_no_level() -> None:
    # Anyang 2021 (seed 004 三(三)): two children of 滑县 at 65/35, one of 文峰区 at 50/50, 12,000 yuan each.
    flows = {
        ("service_subsidy", "fund:anyang-central-provincial"): 780_000 * 2 + 600_000,
        ("service_subsidy", "fund:anyang-huaxian"): 420_000 * 2,
        ("service_subsidy", "fund:anyang-city-county"): 600_000,
    }
    funds = {
        "fund:anyang-central-provincial": Fund("中央和省财政", "central_provincial"),
        "fund:anyang-city-county": Fund("市县财政", "city_county"),
        "fund:anyang-huaxian": Fund("滑县财政（省财政直管县）", "county"),
    }
    levels = funding_chart(flows, 2021, funds)
    assert [(row.label, [cell.text for cell in row.cells]) for row in levels.rows] == [
        ("中央和省级财政", ["21,600.00元", "60.0%", "中央和省财政"]),
        ("市县财政", ["6,000.00元", "16.7%", "市县财政"]),
        ("县级财政", ["8,400.00元", "23.3%", "滑县财政（省财政直管县）"]),
    ]
    named = funding_chart(flows, 2021, {account: Fund(fund.name) for account, fund in funds.items()})
    assert named.row_heading == "资金来源" and named.rows[0].label == "中央和省财政"


def test_overdue_applications_are_counted_per_street_in_the_jurisdictions_order_with_the_longest_wait() -> (
    None
):
    overdue = [
        {"street": "人和", "working_days_overdue": 3},
        {"street": "鸳鸯", "working_days_overdue": 1},
        {"street": "人和", "working_days_overdue": 7},
    ]
    chart = overdue_chart(overdue, STREETS, 2025)
    assert [(row.label, [cell.text for cell in row.cells]) for row in chart.rows] == [
        ("鸳鸯街道", ["1份", "1个工作日"]),
        ("人和街道", ["2份", "7个工作日"]),
    ]
    assert chart.total is not None and [cell.text for cell in chart.total.cells] == ["3份", "7个工作日"]
    assert not overdue_chart([], STREETS, 2025).drawable


def test_unsettled_facts_read_by_their_codes_chinese_name_most_frequent_first() -> None:
    items: list[dict[str, Any]] = [
        {"code": "record_unsigned", "reason": "…", "person_id": "p1"},
        {"code": "awaiting_approval", "reason": "…", "person_id": "p1"},
        {"code": "awaiting_approval", "reason": "…", "person_id": "p2"},
        {"code": "a_new_code", "reason": "服务记录缺少新的字段", "person_id": None},
    ]
    chart = unsettled_chart(items, 2025)
    assert [(row.label, row.cells[0].text, row.cells[1].text) for row in chart.rows] == [
        ("等待补助申请的审批结果", "2项", "2人"),
        ("服务记录缺少新的字段", "1项", "0人"),
        ("服务记录未经本人或监护人签字", "1项", "1人"),
    ]
    assert chart.rows[0].cells[2].text == "awaiting_approval" and unsettled_chart([], 2025).total is None
    assert chart.total is not None and [cell.text for cell in chart.total.cells] == ["4项", "2人", ""]
    assert chart.spec()["axes"][0]["unit"] == "项"


def test_percentages_read_with_one_decimal_rounded_half_up() -> None:
    assert [percent(1, 3), percent(2, 3), percent(1, 8), percent(0, 5)] == [
        Decimal("33.3"),
        Decimal("66.7"),
        Decimal("12.5"),
        Decimal("0.0"),
    ]
    assert percent(1, 0) is None


def test_a_charts_csv_starts_with_a_byte_order_mark_and_writes_figures_plainly() -> None:
    area = {"area": "滑县", "quota": 200, "approved": 1500, "percent": "750.00", "met": True}
    total = {**area, "area": "合计", "quota": 1015}
    use = {"year": 2021, "programme": "残疾儿童康复救助", "minimum": True, "policy_id": "anyang-2021"}
    chart = quota_chart({**use, "policy_version": 2, "areas": [area], "total": total})
    assert chart.file_name == "2021年残疾儿童康复救助任务完成情况"
    assert chart.rows[0].cells[1].text == "1,500人"
    assert chart.csv().decode("utf-8-sig").splitlines() == [
        "地区,任务数,已审批人数,完成率（%）,完成情况",
        "滑县,200,1500,750.0,已完成",
        "合计,1015,1500,147.8,已完成",
    ]
    assert chart.csv().startswith(b"\xef\xbb\xbf")


# -- Anyang: settlement and the console of a county-level deployment ------------------------------
@pytest.fixture(scope="module")
def anyang(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Redis, settlement (REHAB_REFERENCE=anyang, access control on) and a console as real processes;
    the approvals of ``ANYANG_CHILDREN`` published on the approval stream, signed by approval's key,
    as the approval service would, and consumed by settlement."""
    var_dir = tmp_path_factory.mktemp("anyang")
    local_redis = LocalRedis(var_dir / "redis", free_port()).start()
    services = ServiceProcesses(
        var_dir,
        local_redis.url,
        ports={service: free_port() for service in SERVICES},
        services=("settlement",),
        with_access=True,
        env={"REHAB_REFERENCE": "anyang"},
    )
    running = Stack(var_dir, local_redis, services)
    try:
        services.start()
        clerk = User("安阳财务科", Agency("settlement"), frozenset({Role("staff")}), Scope.parse("district"))
        running.directory.add(clerk)
        set_console_password(
            running.directory, f"sqlite:///{var_dir / 'console.db'}", clerk.name, PASSWORD, must_change=False
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REHAB_REFERENCE", "anyang")  # the console names Anyang's counties
            _start_console(running)
        _publish_children(local_redis.url, services.signing_keys)
        _wait_until_settled(running, sum(ANYANG_CHILDREN.values()))
        yield running
    finally:
        if running.console is not None:
            running.console.terminate()
            running.console.wait(timeout=10)
        services.stop()
        local_redis.stop()


def _publish_children(url: str, keys: Path) -> None:
    """Each child's form and approval (12,000 yuan, fixed amount) on approval's stream, and ten months of
    training charged 15,000 yuan on delivery's, each signed by its producer's key."""
    client = redis.Redis.from_url(url)
    for county, children in ANYANG_CHILDREN.items():
        for _ in range(children):
            for stream, producer, envelope in _child_events(county):
                signer = KeyRing.from_directory(keys, producer).signing_key
                assert signer is not None
                signed = sign(envelope, signer.key_id, signer.key)
                client.xadd(stream, signed.to_wire())  # type: ignore[arg-type]
    client.close()


def _record_waiting_for_an_approval(stack: Stack, year: int) -> None:
    """A signed service record, as delivery publishes it, of an application settlement never saw approved
    (a person no street surveyed, so no coverage changes): it waits unsettled for the approval."""
    delivery, person = uuid4(), uuid4()
    record = payload_of(
        ServiceDelivered,
        delivery_id=delivery,
        application_id=uuid4(),
        person_id=person,
        service_year=year,
        institution_id="lj-rehab-centre",
        item=ITEM,
        period_start=date(year, 3, 1),
        period_end=date(year, 3, 31),
        signed_on=date(year, 3, 31),
    )
    signer = KeyRing.from_directory(stack.services.signing_keys, "delivery").signing_key
    assert signer is not None
    envelope = sign(envelope_of(record, date(year, 3, 31), f"delivery-{delivery}"), signer.key_id, signer.key)
    client = redis.Redis.from_url(stack.redis.url)
    client.xadd(DELIVERY_STREAM, envelope.to_wire())  # type: ignore[arg-type]
    client.close()
    with stack.api("settlement", "财务科") as api:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(item["person_id"] == str(person) for item in api.get("/ledger/unsettled").json()):
                return
            time.sleep(0.2)
    raise AssertionError("settlement did not list the record as unsettled within 60 s")


def _child_events(county: str) -> list[tuple[str, str, EventEnvelope]]:
    application, person, delivery = uuid4(), uuid4(), uuid4()
    common = {"application_id": application, "person_id": person}
    form = payload_of(
        ApplicationSubmitted,
        **common,
        application_year=2021,
        street=county,
        disability_categories=["hearing"],
    )
    approved = payload_of(
        ApplicationApproved,
        **common,
        application_year=2021,
        street=county,
        approved_items=[
            {
                "item": TRAINING,
                "institution_id": CENTRE,
                "subsidy_mode": "fixed_amount",
                "amount_fen": 1_200_000,
            }
        ],
        rejected_items=[],
        approved_on=date(2021, 2, 1),
    )
    delivered = payload_of(
        ServiceDelivered,
        **common,
        delivery_id=delivery,
        service_year=2021,
        institution_id=CENTRE,
        item=TRAINING,
        period_start=date(2021, 3, 1),
        period_end=date(2021, 12, 31),
        signed_on=date(2021, 12, 31),
        charge_fen=1_500_000,
        insurance_paid_fen=0,
    )
    return [
        (APPROVAL_STREAM, "approval", envelope_of(form, date(2021, 1, 20), f"application-{application}")),
        (
            APPROVAL_STREAM,
            "approval",
            envelope_of(approved, date(2021, 2, 1), f"application-{application}", 2),
        ),
        (DELIVERY_STREAM, "delivery", envelope_of(delivered, date(2021, 12, 31), f"delivery-{delivery}")),
    ]


def _wait_until_settled(stack: Stack, count: int) -> None:
    deadline = time.monotonic() + 60
    with stack.api("settlement", "安阳财务科") as api:
        while time.monotonic() < deadline:
            answer = api.get("/reports/quota-use", params={"year": 2021})
            approved = answer.status_code == 200 and answer.json()["total"]["approved"] == count
            if approved and api.get("/ledger").json()["posting_count"] >= 2 * count:  # two funds each
                return
            time.sleep(0.2)
    raise AssertionError(f"settlement did not count and pay {count} children within 60 s")


# -- reading the page and the service's answers ------------------------------------------------------
def _bars(page: Any, key: str) -> int:
    return int(page.locator(f"#chart-{key} svg path[fill='{BAR}']").count())


def _drawn_text(page: Any, key: str) -> str:
    """The words the chart's SVG draws (title, axes, labels, the target's line)."""
    return " ".join(page.locator(f"#chart-{key} svg text").all_text_contents())


def _table(page: Any, key: str) -> dict[str, list[str]]:
    """The chart's table: each row's heading and its cells as shown."""
    return {
        row.locator("th").inner_text(): row.locator("td").all_inner_texts()
        for row in page.locator(f"#table-{key} tbody tr, #table-{key} tfoot tr").all()
    }


def _download(page: Any, selector: str, folder: Path) -> Path:
    with page.expect_download() as started:
        page.locator(selector).click()
    download = started.value
    saved = folder / download.suggested_filename
    download.save_as(saved)
    assert saved.stat().st_size > 0
    return saved


def _percent(part: int, whole: int) -> str:
    if whole == 0:
        return "—"
    return f"{(Decimal(part * 100) / whole).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _coverage_cells(row: dict[str, Any]) -> list[str]:
    """A street's (or a month's) counts and served / with needs, as the table should show them."""
    surveyed, needs, served = row["surveyed"], row["with_needs"], row["served"]
    return [f"{surveyed}人", f"{needs}人", f"{served}人", _percent(served, needs)]


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}元"


def _statement_by_rule(text: str, received: bool = False) -> dict[str, int]:
    """The statement's lines summed per 经费类别 (an adjustment under the rule it adjusts), in fen: what
    the fund paid out net of claw-backs, or what a payee received (``received``)."""
    totals: dict[str, int] = {}
    for line in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        if len(line) != 7 or line[5] not in ("借", "贷"):
            continue
        outward = line[5] == ("贷" if received else "借")
        fen = int(Decimal(line[4]) * 100) * (1 if outward else -1)
        rule = line[1].removesuffix("（调整）")
        totals[rule] = totals.get(rule, 0) + fen
    return totals
