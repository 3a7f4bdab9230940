"""Settlement's pages as the console audit read them in Chromium: each account named once, under its kind
(a hospital's assessment centre and the hospital are two accounts); on a phone the totals table scrolls in
its box, a date stays on one line; a posting's explanation names things without codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot
from tests.console.phone import overflow, phone_page
from tests.console.test_settlement import surveyed_in_yuanyang

pytestmark = pytest.mark.e2e

TEXT_HEIGHT = """(cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return range.getBoundingClientRect().height;
}"""
"""The height of a cell's text (not of the cell, which is as tall as its row's tallest cell)."""


def test_the_account_filter_names_each_account_once_under_its_kind(pages: Any, stack: Stack) -> None:
    surveyed_in_yuanyang(stack, 191)
    finance = pages("财务科")
    finance.goto("/settlement")
    groups = finance.locator("#f-account optgroup")
    labels = groups.evaluate_all("(all) => all.map((group) => group.label)")
    assert labels[:3] == ["街道", "评估机构（评估、转介经费）", "服务机构（康复服务项目补助）"]
    assessment = finance.locator("#f-account optgroup:nth-of-type(2) option").all_inner_texts()
    service = finance.locator("#f-account optgroup:nth-of-type(3) option").all_inner_texts()
    assert "重庆医科大学附属第二医院" in assessment and "重医附二院" in service
    assert "区第一人民医院" in service and "区第一人民医院" not in assessment
    names = finance.locator("#f-account option").all_inner_texts()
    assert len(names) == len(set(names))  # one name per account, each once
    assert_accessible(finance)


def test_on_a_phone_the_totals_scroll_in_their_box_and_a_date_keeps_to_one_line(
    browser: Any, stack: Stack
) -> None:
    surveyed_in_yuanyang(stack, 192)
    page = phone_page(browser, stack, "财务科")
    try:
        page.goto("/settlement")
        assert overflow(page) == 0
        totals = page.locator("section[aria-labelledby=accounts] table")
        box = totals.evaluate(
            "(table) => [table.scrollWidth, table.clientWidth, getComputedStyle(table).overflowX]"
        )
        balance = page.locator("section[aria-labelledby=accounts] th", has_text="余额")
        balance.scroll_into_view_if_needed()
        seen = balance.bounding_box()
        assert seen is not None and seen["x"] + seen["width"] <= 390, (seen, box)
        screenshot(page, "70-phone-settlement-totals")
        dates = page.locator("section[aria-labelledby=postings] td.date")
        assert dates.count() > 0
        for cell in dates.all()[:5]:
            height = cell.evaluate(TEXT_HEIGHT)
            line = cell.evaluate("(cell) => parseFloat(getComputedStyle(cell).lineHeight) || 24")
            assert height < 2 * line, (cell.inner_text(), height, line)
        page.locator("section[aria-labelledby=postings]").scroll_into_view_if_needed()
        screenshot(page, "71-phone-settlement-postings")
    finally:
        page.context.close()


def test_a_postings_explanation_names_things_without_codes(pages: Any, stack: Stack) -> None:
    surveyed_in_yuanyang(stack, 193)
    finance = pages("财务科")
    finance.goto("/settlement?rule=survey_fee")
    finance.locator("section[aria-labelledby=postings] tbody tr a", has_text="说明").first.click()
    main = finance.locator("main").inner_text()
    assert "印发 2024年8月27日" in main and "2024-08-27" not in main
    assert " 分）" not in main and "（street" not in main
    screenshot(finance, "72-posting-explanation")


def test_a_free_items_explanation_reads_names_yuan_and_the_missing_standard_in_words(
    pages: Any, stack: Stack
) -> None:
    """The audit's posting: 辅助器具适配 at 两江新区残疾人康复服务中心, 免费, 1,500.00 元, whose standard the
    deployment has not given."""
    application_id, person_id = stack.approved(227, ["assistive_device_fitting"])
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    record = {
        "application_id": application_id,
        "person_id": person_id,
        "institution_id": "lj-rehab-centre",
        "item": "assistive_device_fitting",
        "frequency": "一次",
        "period_start": f"{JOURNEY_YEAR}-06-01",
        "period_end": f"{JOURNEY_YEAR}-06-30",
        "staff": "康复治疗师 周敏",
        "signed_by": "person",
        "signed_on": f"{JOURNEY_YEAR}-07-01",
        "charge_fen": 150000,
    }
    with stack.api("delivery", "区康复中心") as api:
        kept = api.post("/deliveries", json=record)
    assert kept.status_code == 201, kept.text
    delivery_id = kept.json()["delivery_id"]
    with stack.api("settlement", "财务科") as ledger:

        def paid() -> list[dict[str, Any]]:
            found = ledger.get("/ledger/postings", params={"account": "service_institution:lj-rehab-centre"})
            return [p for p in found.json()["items"] if p["inputs"].get("delivery_id") == delivery_id]

        journey.wait_until("the record is paid", lambda: len(paid()) == 1)
        [posting] = paid()

    finance = pages("财务科")
    finance.goto(f"/settlement/postings/{posting['posting_id']}")
    main = finance.locator("main")
    table = main.locator("section[aria-labelledby=inputs] table").inner_text()
    text = "\n".join(
        main.locator(f"section[aria-labelledby={part}]").inner_text() for part in ("clause", "arithmetic")
    )
    for code in ("lj-rehab-centre", "assistive_device_fitting", "（free）", "150000", "部署参数未填写"):
        assert code not in table + text, code
    assert application_id not in table and delivery_id not in table  # ids: the small line for checking
    ids = main.locator(".hint.ids").inner_text()
    assert application_id in ids and delivery_id in ids
    assert "两江新区残疾人康复服务中心" in table and "免费" in table and "1,500.00 元" in table
    assert "本地区尚未填写该项补助标准" in text and "以申请核定的金额为限" in text
    assert "印发 2024年8月27日" in text
    top = screenshot(finance, "73-posting-explanation-free-item")
    finance.screenshot(path=str(top.with_name("73-posting-explanation-free-item-whole.png")), full_page=True)
    assert_accessible(finance)
