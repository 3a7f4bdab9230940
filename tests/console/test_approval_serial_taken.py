"""A 序号 the street already gave another form that year: the message names 鸳鸯街道 and no id, and the
form links to the application holding the number."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kernel.domain.clock import cn_date, today
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


def test_a_serial_number_taken_names_the_street_and_links_to_the_form_holding_it(
    pages: Any, stack: Stack
) -> None:
    holder = stack.applied(253, NEEDS)[0]
    journey = stack.journey()
    person_id = journey.register(certified_adult(254))
    journey.survey(person_id, NEEDS)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    journey.assess_and_refer(person_id, NEEDS, home_visit=False)
    journey.wait_until(
        "the referral reaches approval", lambda: journey.referrals_reached_approval(person_id, NEEDS)
    )
    with stack.api("approval", "鸳鸯社区协调员") as api:
        referral = api.get("/referrals", params={"person_id": person_id}).json()[0]["referral_id"]
    community = pages("鸳鸯社区协调员")
    community.goto(f"/approval/referrals/{referral}/apply")
    community.get_by_label(re.compile("^序号")).fill("253")
    submitted_on = community.get_by_label(re.compile("^申请日期"))
    assert submitted_on.input_value() == cn_date(today())
    assert "如 2025年5月6日" in community.locator("#hint-submitted_on").inner_text()
    submitted_on.fill(f"{JOURNEY_YEAR}年5月6日")
    community.get_by_role("group", name=re.compile("^残疾类别")).get_by_label("视力").check()
    community.get_by_role("button", name="提交申请").click()
    said = community.get_by_role("alert").inner_text()
    assert f"序号“253”已用于鸳鸯街道{JOURNEY_YEAR}年度的另一份申请" in said, said
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", community.locator("main").inner_text())
    link = community.get_by_role("link", name="查看已使用序号“253”的申请")
    assert link.get_attribute("href") == f"/approval/applications/{holder}"
    assert_accessible(community)
    screenshot(community, "84-serial-number-taken")
    link.click()
    assert "第253号申请" in community.locator(".subtitle").inner_text()
