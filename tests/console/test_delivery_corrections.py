"""A service institution corrects 更正 a kept 康复服务记录 in the browser: the 更正 action on its page,
the form filled in from the record, a reason and a confirmation; the service's refusal at the field; the
record shown as corrected (when, by whom, why); and settlement claws back what the lower charge no longer
covers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot

pytestmark = pytest.mark.e2e

NEEDS = ["assistive_device_fitting"]
"""Free: paid at the self-paid part of the charge, so a corrected charge changes what is due."""


def test_the_recording_institution_corrects_a_wrong_charge_and_settlement_claws_the_difference_back(
    pages: Any, stack: Stack
) -> None:
    application_id, person_id = stack.approved(222, NEEDS)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    record = {
        "application_id": application_id,
        "person_id": person_id,
        "institution_id": "lj-rehab-centre",
        "item": NEEDS[0],
        "frequency": "每周2次，每次60分钟",
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

        def subsidy() -> list[dict[str, Any]]:
            found = ledger.get("/ledger/postings", params={"account": "service_institution:lj-rehab-centre"})
            return [p for p in found.json()["items"] if p["inputs"].get("delivery_id") == delivery_id]

        journey.wait_until("the record is paid", lambda: len(subsidy()) == 1)
        [paid] = subsidy()
    assert paid["amount_fen"] == 150000

    staff = pages("康复中心治疗师")
    staff.goto(f"/delivery/deliveries/{delivery_id}")
    staff.get_by_role("link", name="更正", exact=True).click()
    assert staff.get_by_label(re.compile("^收费金额")).input_value() == "1500.00"
    assert staff.get_by_label(re.compile("^服务人员")).input_value() == "康复治疗师 周敏"
    staff.get_by_label(re.compile("^收费金额")).fill("1200")
    staff.get_by_label(re.compile("^医保、医疗救助等已支付")).fill("1300")
    staff.get_by_label(re.compile("^更正原因")).fill("发票总额录入有误，应为1,200.00元")
    staff.get_by_role("button", name="保存更正").click()
    # Not confirmed: the console asks first, nothing sent.
    assert staff.locator("#f-confirm").get_attribute("aria-invalid") == "true"
    assert "请勾选确认" in staff.get_by_role("alert").inner_text()
    staff.get_by_label(re.compile("我已核对更正后的内容")).check()
    staff.get_by_role("button", name="保存更正").click()
    # Confirmed: the service refuses insurance above the charge, at the field, in yuan; the form as typed.
    said = staff.get_by_role("alert").inner_text()
    assert "医保等已支付 1,300.00元，超过发票总额 1,200.00元" in said, said
    assert staff.locator("#f-insurance_paid").get_attribute("aria-invalid") == "true"
    assert staff.get_by_label(re.compile("^更正原因")).input_value() == "发票总额录入有误，应为1,200.00元"
    assert_accessible(staff)
    screenshot(staff, "45-service-record-correction-refused")
    staff.get_by_label(re.compile("^医保、医疗救助等已支付")).fill("0")
    staff.get_by_label(re.compile("我已核对更正后的内容")).check()
    staff.get_by_role("button", name="保存更正").click()
    staff.wait_for_url(re.compile(rf"/delivery/deliveries/{delivery_id}\?done=corrected"))
    assert "更正已保存" in staff.get_by_role("status").first.inner_text()
    assert "1,200.00元" in staff.locator("dl.facts").inner_text()
    corrections = staff.locator("table.corrections tbody tr")
    assert corrections.count() == 1
    assert "发票总额录入有误，应为1,200.00元" in corrections.inner_text()
    assert "康复中心治疗师" in corrections.inner_text()
    assert_accessible(staff)
    screenshot(staff, "49-service-record-corrected")
    staff.goto("/delivery")
    listed = staff.locator(
        "section[aria-labelledby=records] tr", has=staff.locator(f"a[href*='{delivery_id}']")
    )
    assert "已更正1次" in listed.inner_text() and "1,200.00元" in listed.inner_text()

    with stack.api("settlement", "财务科") as ledger:
        journey.wait_until("the correction is settled", lambda: len(subsidy()) == 2)
        adjustment = next(p for p in subsidy() if p["rule"] == "service_subsidy_adjustment")
        explained = ledger.get(f"/ledger/postings/{adjustment['posting_id']}/explanation").json()
    # 1,500.00 paid, 1,200.00 due now: 300.00 clawed back 追回 from the institution, named as the correction.
    assert (adjustment["amount_fen"], adjustment["debit_account"]) == (
        30000,
        "service_institution:lj-rehab-centre",
    )
    correcting = {each["name"]: each["value"] for each in explained["inputs"]}["correcting_event_id"]
    assert "追回" in explained["text"] and correcting in explained["text"]
    assert explained["source_events"][0]["event_id"] == correcting
