"""A service institution in the browser: the items 区残联办 approved to it, a 康复服务记录 refused by the
delivery service (its reason at the field, everything typed kept), then kept and shown."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


def test_a_service_institution_records_an_approved_item_signed_by_the_person(
    pages: Any, stack: Stack
) -> None:
    application_id, _person = stack.approved(81, NEEDS)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )

    staff = pages("康复中心治疗师")
    staff.goto("/delivery")
    assert "两江新区残疾人康复服务中心" in staff.get_by_role("heading", level=1).inner_text()
    row = staff.locator(
        "section[aria-labelledby=to-serve] tr", has=staff.locator(f"a[href*='{application_id}']")
    )
    card = row.locator("td").first.inner_text()
    assert re.fullmatch(rf"LJ{JOURNEY_YEAR}-\d{{6}}", card)
    assert_accessible(staff)
    row.get_by_role("link", name=re.compile("记录")).click()
    staff.get_by_label(re.compile("^服务频次")).fill("每周2次，每次60分钟")
    staff.get_by_label(re.compile("^服务人员")).fill("康复治疗师 周敏")
    staff.get_by_label(re.compile("^服务周期起")).fill(f"{JOURNEY_YEAR}年6月1日")
    staff.get_by_label(re.compile("^服务周期止")).fill(f"{JOURNEY_YEAR}-10-31")
    staff.get_by_label(re.compile("^收费金额")).fill("200")
    staff.get_by_label(re.compile("^签字日期")).fill(f"{JOURNEY_YEAR}-10-01")  # before the period ended
    staff.get_by_role("button", name="保存服务记录").click()
    assert "未能保存" in staff.get_by_role("alert").inner_text()
    assert staff.locator("#f-signed_on").get_attribute("aria-invalid") == "true"
    assert staff.get_by_label(re.compile("^服务人员")).input_value() == "康复治疗师 周敏"
    assert_accessible(staff)
    screenshot(staff, "40-service-record-refused")
    staff.get_by_label(re.compile("^签字日期")).fill(f"{JOURNEY_YEAR}-11-05")
    # Sent twice (a double click, a retry after a time-out): the form's Idempotency-Key records it once.
    form = staff.locator("form.record-form")
    fields = form.evaluate("f => Object.fromEntries(new FormData(f))")
    action = form.get_attribute("action")
    first = staff.request.post(action, form=fields, max_redirects=0)
    second = staff.request.post(action, form=fields, max_redirects=0)
    assert (first.status, second.status) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    with stack.api("delivery", "区康复中心") as api:
        assert len(api.get("/deliveries", params={"application_id": application_id}).json()) == 1
    staff.goto(first.headers["location"])
    facts = staff.locator("dl.facts").inner_text()
    assert "200.00元" in facts and f"{JOURNEY_YEAR}年6月1日" in facts and "残疾人本人" in facts
    assert_accessible(staff)
    staff.goto("/delivery")
    assert "康复治疗师 周敏" in staff.locator("section[aria-labelledby=records]").inner_text()
    screenshot(staff, "41-delivery-worklist")
