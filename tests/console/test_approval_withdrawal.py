"""A sign-off block naming someone who has no login (负责人 typed as “王主任”) no longer stays stuck: the
signatory fields offer the level's logins, and the proposer withdraws 撤回 the block (asked twice) and
proposes it anew."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kernel.domain.clock import cn_date, today
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


def test_the_proposer_withdraws_a_block_waiting_for_someone_without_a_login(pages: Any, stack: Stack) -> None:
    application_id = stack.applied(251, NEEDS)[0]
    page = f"/approval/applications/{application_id}"

    handler = pages("鸳鸯社区协调员")
    handler.goto(page)
    handler.get_by_role("link", name="填写社区意见").click()
    offered = handler.locator("#signers-responsible option")
    assert "鸳鸯社区主任" in [offered.nth(i).get_attribute("value") for i in range(offered.count())]
    assert "鸳鸯社区主任" in handler.locator("#hint-signatories-responsible").inner_text()
    signed_on = handler.get_by_label(re.compile("^签署日期"))  # the Chinese way, as the street forms
    assert signed_on.input_value() == cn_date(today())  # today: the console's year is this year
    assert "如 2025年5月8日" in handler.locator("#hint-reviewed_on").inner_text()
    assert_accessible(handler)
    screenshot(handler, "80-signatories-offered")
    handler.get_by_label(re.compile("^意见")).fill("情况属实，同意上报")
    handler.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}年5月8日")
    handler.get_by_label(re.compile("^负责人")).fill("王主任")  # no such login
    handler.get_by_role("button", name="提出本栏意见并签字").click()
    handler.wait_for_url(re.compile(r"\?done=proposed"))
    assert "王主任" in handler.locator("#sign-offs").inner_text()

    chief = pages("鸳鸯社区主任")  # the real 负责人 is not named: nothing to confirm, no 撤回
    chief.goto(page)
    assert chief.get_by_role("button", name=re.compile("撤回|本人确认")).count() == 0

    handler.goto(page)
    withdraw = handler.get_by_role("button", name="撤回本栏（社区意见）…")
    assert_accessible(handler)
    screenshot(handler, "81-proposer-may-withdraw")
    withdraw.click()
    assert handler.get_by_role("heading", level=1).inner_text().startswith("撤回签字栏：社区意见")
    assert "#sign-offs" in handler.get_by_role("link", name="取消，返回审批表").get_attribute("href")
    assert_accessible(handler)
    screenshot(handler, "82-confirm-withdrawal")
    handler.get_by_label("撤回原因（选填）").fill("负责人姓名填错")
    handler.get_by_role("button", name="确认撤回本栏").click()
    handler.wait_for_url(re.compile(r"\?done=withdrawn"))
    assert "已撤回该签字栏" in handler.get_by_role("status").inner_text()
    assert handler.locator("#sign-offs").count() == 0
    handler.get_by_role("link", name="填写社区意见").click()
    handler.get_by_label(re.compile("^意见")).fill("情况属实，同意上报")
    handler.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}年5月8日")
    handler.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    handler.get_by_role("button", name="提出本栏意见并签字").click()
    handler.wait_for_url(re.compile(r"\?done=proposed"))

    chief.goto(page)
    chief.get_by_role("button", name="本人确认签字（社区意见）").click()
    chief.wait_for_url(re.compile(r"\?done=effective"))
