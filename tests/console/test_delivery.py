"""A service institution in the browser: the items 区残联办 approved to it, a 康复服务记录 refused by the
delivery service (its reason at the field, everything typed kept, the refused record kept with its reason
among 被退回的服务记录), then corrected, kept and shown; a refused record re-opened from that list, resent."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console.delivery.refused import refused_form, resendable
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
    card = row.locator("td").nth(1).inner_text()
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
    assert "被退回的服务记录" in staff.locator("#refusal-kept").inner_text()
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


def test_a_refused_record_is_listed_with_its_reason_and_resent_corrected_from_the_list(
    pages: Any, stack: Stack
) -> None:
    application_id, person_id = stack.approved(82, NEEDS)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    staff = pages("康复中心治疗师")
    staff.goto("/delivery")
    row = staff.locator(
        "section[aria-labelledby=to-serve] tr", has=staff.locator(f"a[href*='{application_id}']")
    )
    row.get_by_role("link", name=re.compile("记录")).click()
    staff.get_by_label(re.compile("^服务频次")).fill("每周1次，每次45分钟")
    staff.get_by_label(re.compile("^服务人员")).fill("康复治疗师 李红")
    staff.get_by_label(re.compile("^服务周期起")).fill(
        f"{JOURNEY_YEAR - 1}-12-01"
    )  # before the approval's year
    staff.get_by_label(re.compile("^服务周期止")).fill(f"{JOURNEY_YEAR}-06-30")
    staff.get_by_label(re.compile("^收费金额")).fill("150")
    staff.get_by_label(re.compile("^签字日期")).fill(f"{JOURNEY_YEAR}-07-01")
    staff.get_by_role("button", name="保存服务记录").click()
    reason = staff.locator(".field-error").first.inner_text()
    assert "不在此申请" in reason and "年度" in reason

    staff.get_by_role("link", name="被退回的服务记录").first.click()
    listed = staff.locator("table.refused tbody tr", has=staff.locator(f"a[href*='{application_id}']"))
    assert listed.count() == 1
    assert reason in listed.inner_text() and "服务周期起" in listed.inner_text()
    assert "格式错误" in staff.locator("main").inner_text()  # a malformed record is not kept: said so
    assert_accessible(staff)
    screenshot(staff, "42-refused-records")
    reads = [(row[1], row[7]) for row in stack.audit(person_id)]
    assert ("康复中心治疗师", "服务：被退回的服务记录") in reads  # the name on the page, read with a purpose
    listed.get_by_role("link", name=re.compile("修改后重新提交")).click()
    assert "退回原因" in staff.locator("#refused-notice").inner_text()
    assert staff.get_by_label(re.compile("^服务人员")).input_value() == "康复治疗师 李红"
    assert staff.get_by_label(re.compile("^收费金额")).input_value() == "150.00"
    assert staff.locator("#f-period_start").get_attribute("aria-invalid") == "true"
    assert_accessible(staff)
    screenshot(staff, "43-refused-record-reopened")
    staff.get_by_label(re.compile("^服务周期起")).fill(f"{JOURNEY_YEAR}-06-01")
    staff.get_by_role("button", name="保存服务记录").click()
    staff.wait_for_url(re.compile(r"/delivery/deliveries/.*\?done=recorded"))
    with stack.api("delivery", "区康复中心") as api:
        kept = api.get("/deliveries", params={"application_id": application_id}).json()
        refused = api.get("/deliveries/refused").json()
    assert [record["staff"] for record in kept] == ["康复治疗师 李红"]
    assert [entry["record"]["staff"] for entry in refused].count("康复治疗师 李红") == 1


def test_a_refused_record_fills_the_form_in_as_sent_with_amounts_in_yuan() -> None:
    refused = {"record": {"frequency": "每周1次", "staff": "李红", "period_start": "2025-06-01",
                          "charge_fen": 15050, "insurance_paid_fen": 0}}  # fmt: skip
    form = refused_form(refused)
    assert (form.get("staff"), form.get("period_start")) == ("李红", "2025年6月1日")
    assert (form.get("charge"), form.get("insurance_paid"), form.get("signed_by")) == (
        "150.50",
        "0.00",
        "person",
    )


def test_a_refused_record_is_resent_only_under_an_item_still_fixed_to_an_institution() -> None:
    refused = {"record": {"application_id": "a", "item": "cataract_surgery"}}
    fixed = {"application_id": "a", "item": "cataract_surgery", "current_institution_id": "lj-rehab-centre"}
    assert resendable(refused, [fixed])
    assert not resendable(refused, [{**fixed, "item": "low_vision_training"}])
    assert not resendable(refused, [{**fixed, "current_institution_id": None}])


def test_a_refusal_about_amounts_says_them_in_yuan_on_the_form_and_in_the_refused_list(
    pages: Any, stack: Stack
) -> None:
    application_id, _person = stack.approved(83, NEEDS)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    staff = pages("康复中心治疗师")
    staff.goto(f"/delivery/entitlements/{application_id}/{NEEDS[0]}/record")
    staff.get_by_label(re.compile("^服务频次")).fill("每周1次，每次60分钟")
    staff.get_by_label(re.compile("^服务人员")).fill("康复治疗师 王芳")
    staff.get_by_label(re.compile("^服务周期起")).fill(f"{JOURNEY_YEAR}-06-01")
    staff.get_by_label(re.compile("^服务周期止")).fill(f"{JOURNEY_YEAR}-06-30")
    staff.get_by_label(re.compile("^收费金额")).fill("3500")
    staff.get_by_label(re.compile("^医保、医疗救助等已支付")).fill("4000")
    staff.get_by_label(re.compile("^签字日期")).fill(f"{JOURNEY_YEAR}-07-01")
    staff.get_by_role("button", name="保存服务记录").click()
    said = staff.get_by_role("alert").inner_text()
    assert "医保等已支付 4,000.00元，超过发票总额 3,500.00元" in said, said
    assert "400000" not in said and " 分" not in said
    staff.get_by_role("link", name="被退回的服务记录").first.click()
    listed = staff.locator("table.refused tbody tr", has=staff.locator(f"a[href*='{application_id}']"))
    assert "医保等已支付 4,000.00元，超过发票总额 3,500.00元" in listed.inner_text()
    screenshot(staff, "44-refused-amounts-in-yuan")
