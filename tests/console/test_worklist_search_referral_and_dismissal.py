"""What the last console review left in assessment, approval and delivery, in the browser: the assessment
worklist searched by 姓名 by POST (nothing typed in the address), the referral's dropdown offering only the
institutions designated for the item, the form from a referral ticking the survey's 残疾类别 (other ones
refused at the field), and a refused service record dismissed 撤销 after a confirmation, kept for audit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rehab.journey import DISTRICT_ASSESSMENT
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

WALKING = ["orientation_mobility_training"]


def test_the_worklist_is_searched_by_name_by_post_and_the_referral_offers_only_designated_institutions(
    pages: Any, stack: Stack
) -> None:
    journey = stack.journey()
    person_id = journey.register({**certified_adult(211), "name": "欧阳检索"})
    other_id = journey.register(certified_adult(214))  # 测试……: on the list, not found
    for surveyed in (person_id, other_id):
        journey.survey(surveyed, WALKING)
    journey.wait_until("the surveys reach assessment", lambda: journey.on_worklist({person_id, other_id}))

    doctor = pages("评估医生")
    doctor.goto(f"/assessment?year={JOURNEY_YEAR}")
    listed = doctor.locator("main table tbody tr").count()
    search = doctor.get_by_role("search").filter(has=doctor.get_by_label("按姓名查找"))
    search.get_by_label("按姓名查找").fill("欧阳")
    search.get_by_role("button", name="查找").click()
    doctor.wait_for_load_state()
    assert "欧阳" not in doctor.url and doctor.url.endswith("/assessment")  # nothing typed in the address
    rows = doctor.locator("main table tbody tr")
    assert rows.count() == 1 < listed
    assert rows.get_by_role("rowheader").inner_text() == "欧阳检索"
    assert "姓名含“欧阳”的有 1 人" in doctor.get_by_role("status").inner_text()
    assert doctor.get_by_label("按姓名查找").input_value() == "欧阳"
    assert_accessible(doctor)
    screenshot(doctor, "32-assessment-worklist-searched")
    search.get_by_label("按姓名查找").fill("不在名单")
    search.get_by_role("button", name="查找").click()
    assert "名单中没有姓名含“不在名单”的人员" in doctor.locator("main").inner_text()

    assessment_id = journey.assess(person_id, DISTRICT_ASSESSMENT, WALKING, home_visit=False, outside=[])
    doctor.goto(f"/assessment/assessments/{assessment_id}")
    dropdown = doctor.get_by_label("定点康复服务机构（转介至服务机构时）")
    offered = dropdown.locator("option").evaluate_all("options => options.map(o => o.value).filter(v => v)")
    assert offered == ["lj-first-hospital", "lj-second-hospital"]  # not the rehab centre, not the eye clinics
    assert "区第二人民医院（盲人定向行走及适应训练）" in dropdown.inner_text()
    assert_accessible(doctor)
    dropdown.scroll_into_view_if_needed()
    screenshot(doctor, "33-referral-designated-institutions")


def test_the_form_from_a_referral_ticks_the_surveys_categories_and_refuses_others_at_the_field(
    pages: Any, stack: Stack
) -> None:
    journey = stack.journey()
    person_id = journey.register(certified_adult(212))  # 视力
    journey.survey(person_id, WALKING)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    journey.assess_and_refer(person_id, WALKING, home_visit=False)
    journey.wait_until(
        "the referral reaches approval", lambda: journey.referrals_reached_approval(person_id, WALKING)
    )
    with stack.api("approval", "鸳鸯社区协调员") as api:
        referral = api.get("/referrals", params={"person_id": person_id}).json()[0]["referral_id"]
    community = pages("鸳鸯社区协调员")
    community.goto(f"/approval/referrals/{referral}/apply")
    categories = community.get_by_role("group", name=re.compile("^残疾类别"))
    assert categories.get_by_label("视力").is_checked()  # as the year's needs survey recorded
    categories.get_by_label("视力").uncheck()
    categories.get_by_label("听力").check()
    community.get_by_label(re.compile("^序号")).fill("212")
    community.get_by_label(re.compile("^申请日期")).fill(f"{JOURNEY_YEAR}-05-06")
    community.get_by_role("button", name="提交申请").click()
    assert "未能保存" in community.get_by_role("alert").inner_text()
    assert community.locator("#f-disability_categories").get_attribute("aria-invalid") == "true"
    message = community.locator(".field-error").first.inner_text()
    assert "听力" in message and "视力" in message and "不一致" in message
    assert_accessible(community)
    categories.scroll_into_view_if_needed()
    screenshot(community, "25b-application-categories-refused")


def test_a_refused_record_is_dismissed_after_a_confirmation_and_kept_for_audit(
    pages: Any, stack: Stack
) -> None:
    needs = ["support_service_midlife_blind"]
    application_id, person_id = stack.approved(213, needs)
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    record = {
        "application_id": application_id, "person_id": person_id, "institution_id": "lj-rehab-centre",
        "item": needs[0], "frequency": "每月1次", "staff": "康复治疗师 撤销测试",
        "period_start": f"{JOURNEY_YEAR - 1}-12-01", "period_end": f"{JOURNEY_YEAR}-06-30",  # before the year
        "signed_by": "person", "signed_on": f"{JOURNEY_YEAR}-07-01", "charge_fen": 20000,
    }  # fmt: skip
    with stack.api("delivery", "康复中心治疗师") as api:
        assert api.post("/deliveries", json=record).status_code == 422

    staff = pages("康复中心治疗师")
    staff.goto("/delivery/refused")
    ours = staff.locator("table.refused tbody tr").filter(has=staff.locator(f"a[href*='{application_id}']"))
    assert ours.count() == 1
    row = ours
    row.get_by_role("link", name=re.compile("^撤销")).click()
    assert "确认不再重新提交" in staff.get_by_role("status").inner_text()
    assert "康复治疗师 撤销测试" in staff.locator("dl.facts").inner_text()
    assert_accessible(staff)
    screenshot(staff, "46-refused-record-dismissal")
    staff.get_by_label(re.compile("^撤销原因")).fill("服务周期填错年度，已按正确周期另行记录")
    staff.get_by_role("button", name="确认撤销").click()
    staff.wait_for_url(re.compile(r"/delivery/refused\?done=dismissed"))
    assert "已撤销" in staff.get_by_role("status").inner_text()
    assert ours.count() == 0  # it left the list
    staff.get_by_role("link", name="查看已撤销的记录").click()
    kept = staff.locator("table.refused tbody tr", has_text="服务周期填错年度")
    assert kept.count() == 1 and "康复中心治疗师" in kept.inner_text()
    assert_accessible(staff)
    screenshot(staff, "47-refused-records-dismissed")
    with stack.api("delivery", "康复中心治疗师") as api:
        listed = api.get("/deliveries/refused").json()
        dismissed = api.get("/deliveries/refused", params={"dismissed": "true"}).json()
    assert all(entry["record"]["application_id"] != application_id for entry in listed)
    ours_kept = [entry for entry in dismissed if entry["record"]["application_id"] == application_id]
    assert [entry["dismissed_by"] for entry in ours_kept] == ["康复中心治疗师"]
