"""The office's 定额 amount as a clerk types it: 12.345 is no amount of 元 (said at the item, not 应为整数),
-5 is refused in the service's words, and full-width １００ from a Chinese IME is 100 元."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console.approval.forms import NOT_AN_AMOUNT
from kernel.domain.clock import cn_date, today
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


def reviewed(stack: Stack, sequence: int) -> str:
    """An application the community and the street signed off, waiting for the office's decision."""
    application_id = stack.applied(sequence, NEEDS)[0]
    community = {"responsible": "鸳鸯社区主任", "handler": "鸳鸯社区协调员"}
    street = {"responsible": "鸳鸯街道负责人", "reviewer": "鸳鸯街道复核人", "handler": "鸳鸯街道经办人"}
    for level, signatories, on in (("community", community, "08"), ("street", street, "12")):
        body = {"level": level, "endorsed": True, "opinion": "同意", "signatories": signatories}
        stack._sign(
            application_id, "reviews", f"reviews/{level}", {**body, "reviewed_on": f"{JOURNEY_YEAR}-05-{on}"}
        )
    return application_id


def test_a_fixed_amount_is_read_as_a_clerk_types_it(pages: Any, stack: Stack) -> None:
    application_id = reviewed(stack, 252)
    office = pages("区残联办负责人")
    office.goto(f"/approval/applications/{application_id}/decision")
    decided_on = office.get_by_label(re.compile("^审批日期"))
    assert decided_on.input_value() == cn_date(today())
    assert "如 2025年5月20日" in office.locator("#hint-decided_on").inner_text()
    decided_on.fill(f"{JOURNEY_YEAR}年2月30日")  # no date: said in the hint's format, not ISO
    office.get_by_role("button", name="提出残联办意见并签字").click()
    said = office.locator("#f-decided_on ~ .field-error, .field.invalid .field-error").first.inner_text()
    assert f"“{JOURNEY_YEAR}年2月30日”不是有效的日期" in said and "年4月2日" in said, said
    assert decided_on.get_attribute("aria-invalid") == "true"
    decided_on.fill(f"{JOURNEY_YEAR}年5月20日")
    office.get_by_label(re.compile("^复核人")).fill("区残联办复核人")
    office.get_by_label(re.compile("^经办人")).fill("区残联办经办人")
    office.get_by_label("定额补助", exact=True).check()
    amount = office.get_by_label("定额补助金额（元）")

    amount.fill("12.345")
    office.get_by_role("button", name="提出残联办意见并签字").click()
    said = office.get_by_role("alert").inner_text()
    assert NOT_AN_AMOUNT in said and "整数" not in said, said
    assert amount.get_attribute("aria-invalid") == "true"
    assert NOT_AN_AMOUNT in office.locator(".field.invalid").inner_text()
    assert amount.input_value() == "12.345"
    assert_accessible(office)
    screenshot(office, "83-amount-not-yuan")

    amount.fill("-5")
    office.get_by_role("button", name="提出残联办意见并签字").click()
    said = office.get_by_role("alert").inner_text()
    assert "定额补助须填写大于 0 的金额" in said and "整数" not in said, said

    amount.fill("１００")  # a Chinese IME's full-width digits
    office.get_by_role("button", name="提出残联办意见并签字").click()
    office.wait_for_url(re.compile(r"\?done=proposed"))
    assert "定额补助 100.00元" in office.locator("#sign-offs").inner_text()
