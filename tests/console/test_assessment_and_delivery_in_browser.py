"""In the browser against the real services: the referral form ticks the one item left and, once it is
referred, is no longer offered (the page says to whom it went); the delivery worklist is searched by
服务卡号 by POST."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rehab.journey import DISTRICT_ASSESSMENT
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

WALKING = ["orientation_mobility_training"]
NEEDS = ["support_service_midlife_blind"]


def test_the_one_item_left_is_ticked_and_once_referred_not_offered_again(pages: Any, stack: Stack) -> None:
    journey = stack.journey()
    person_id = journey.register(certified_adult(241))
    journey.survey(person_id, WALKING)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    assessment_id = journey.assess(person_id, DISTRICT_ASSESSMENT, WALKING, home_visit=False, outside=[])

    doctor = pages("评估医生")
    doctor.goto(f"/assessment/assessments/{assessment_id}")
    assert doctor.get_by_label("盲人定向行走及适应训练").is_checked()
    doctor.get_by_label("定点康复服务机构（转介至服务机构时）").select_option("lj-first-hospital")
    doctor.get_by_label(re.compile("^转介日期")).fill(f"{JOURNEY_YEAR}年4月12日")
    assert_accessible(doctor)
    screenshot(doctor, "34-referral-one-item-ticked")
    doctor.get_by_role("button", name="出具转介").click()
    doctor.wait_for_url(re.compile(r"\?done=referred"))
    assert doctor.get_by_role("button", name="出具转介").count() == 0
    notice = doctor.get_by_role("status").filter(has_text="均已转介").inner_text()
    assert f"盲人定向行走及适应训练于{JOURNEY_YEAR}年4月12日转介至区第一人民医院" in notice
    assert "评估时间" in doctor.locator("table.handbook").inner_text()
    assert f"{JOURNEY_YEAR}年" in doctor.locator("table.handbook").inner_text()
    assert_accessible(doctor)
    screenshot(doctor, "35-referral-all-referred")


def test_the_delivery_worklist_is_searched_by_card_number(pages: Any, stack: Stack) -> None:
    application_id, _person = stack.approved(86, NEEDS)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    staff = pages("康复中心治疗师")
    staff.goto("/delivery")
    row = staff.locator(
        "section[aria-labelledby=to-serve] tr", has=staff.locator(f"a[href*='{application_id}']")
    )
    card = row.locator("td").nth(1).inner_text()
    search = staff.get_by_role("search")
    search.get_by_label("按姓名或服务卡号查找").fill(card[-6:])
    search.get_by_role("button", name="查找").click()
    staff.wait_for_load_state()
    assert staff.url.endswith("/delivery")  # nothing typed in the address
    rows = staff.locator("section[aria-labelledby=to-serve] tbody tr")
    assert rows.count() == 1 and card in rows.inner_text()
    assert f"姓名或服务卡号含“{card[-6:]}”的" in staff.get_by_role("status").inner_text()
    assert_accessible(staff)
    screenshot(staff, "44-delivery-worklist-searched")
