"""The whole year in the browser: a street clerk, an assessor, the community and its signatories, a
service institution and finance, each in a browser context of their own, against the five services and
the console as real processes, take one person from registration to a posting on the settlement page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kernel.domain.clock import today
from tests.console.conftest import Stack, assert_accessible, screenshot
from tests.console.test_approval import confirm
from tests.console.test_street import person_fields, register

pytestmark = pytest.mark.e2e

TODAY = today().isoformat()
"""Every step of this year's work happens today (Beijing's, as the services and the console count days):
no date is ever in the future, whatever the day."""


def test_one_person_from_the_survey_to_a_posting_on_the_settlement_page(pages: Any, stack: Stack) -> None:
    street = pages("鸳鸯调查员")
    person_id = register(street, person_fields(9, "陈全年"))
    street.get_by_role("link", name=re.compile(r"记录\d{4}年度康复需求调查")).click()
    street.get_by_role("group", name=re.compile("^有无康复需求")).get_by_label("有").check()
    street.get_by_label("中途盲者心理疏导").check()
    street.get_by_role("button", name="保存调查").click()
    street.wait_for_url(re.compile(r"\?done=surveyed"))

    journey = stack.journey()
    journey.year = today().year
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    doctor = pages("评估医生")
    doctor.goto("/assessment")
    doctor.locator(f"a[href^='/assessment/persons/{person_id}/assess']").click()
    doctor.get_by_role("button", name="保存评估").click()
    doctor.wait_for_url(re.compile(r"\?done=assessed"))
    doctor.get_by_label("定点康复服务机构（转介至服务机构时）").select_option("lj-rehab-centre")
    doctor.get_by_role("group", name=re.compile("^转介项目")).get_by_label("中途盲者心理疏导").check()
    doctor.get_by_role("button", name="出具转介").click()
    doctor.wait_for_url(re.compile(r"\?done=referred"))

    needs = ["support_service_midlife_blind"]
    journey.wait_until(
        "the referral reaches approval", lambda: journey.referrals_reached_approval(person_id, needs)
    )
    with stack.api("approval", "鸳鸯社区协调员") as api:
        referral = api.get("/referrals", params={"person_id": person_id}).json()[0]["referral_id"]
    community = pages("鸳鸯社区协调员")
    community.goto("/approval/referrals")
    community.locator(f"a[href='/approval/referrals/{referral}/apply']").click()
    community.get_by_label(re.compile("^序号")).fill("全年-1")
    community.get_by_role("group", name=re.compile("^残疾类别")).get_by_label("视力").check()
    assert_accessible(community)
    screenshot(community, "24-application-form")
    community.get_by_role("button", name="提交申请").click()
    community.wait_for_url(re.compile(r"/approval/applications/[0-9a-f-]{36}\?done=submitted"))
    application_id = community.url.split("/approval/applications/")[1].split("?")[0]
    community.get_by_role("link", name="填写社区意见").click()
    community.get_by_label(re.compile("^意见")).fill("情况属实，同意上报")
    community.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    community.wait_for_url(re.compile(r"\?done=proposed"))
    confirm(pages("鸳鸯社区主任"), application_id, "社区意见")
    _propose(
        pages("鸳鸯街道经办人"), application_id, "街道意见", 负责人="鸳鸯街道负责人", 复核人="鸳鸯街道复核人"
    )
    for signer in ("鸳鸯街道复核人", "鸳鸯街道负责人"):
        confirm(pages(signer), application_id, "街道意见")
    office = pages("区残联办负责人")
    office.goto(f"/approval/applications/{application_id}/decision")
    office.get_by_label("定额补助", exact=True).check()
    office.get_by_label("定额补助金额（元）").fill("200")
    office.get_by_label(re.compile("^复核人")).fill("区残联办复核人")
    office.get_by_label(re.compile("^经办人")).fill("区残联办经办人")
    office.get_by_role("button", name="提出残联办意见并签字").click()
    office.wait_for_url(re.compile(r"\?done=proposed"))
    for signer in ("区残联办复核人", "区残联办经办人"):
        confirm(pages(signer), application_id, "残联办意见")

    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    staff = pages("康复中心治疗师")
    staff.goto(f"/delivery/entitlements/{application_id}/support_service_midlife_blind/record")
    staff.get_by_label(re.compile("^服务频次")).fill("每周1次，每次60分钟")
    staff.get_by_label(re.compile("^服务人员")).fill("心理咨询师 吴芳")
    for label in ("^服务周期起", "^服务周期止", "^签字日期"):
        staff.get_by_label(re.compile(label)).fill(TODAY)
    staff.get_by_label(re.compile("^收费金额")).fill("200")
    staff.get_by_role("button", name="保存服务记录").click()
    staff.wait_for_url(re.compile(r"\?done=recorded"))

    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    finance = pages("财务科")
    finance.goto("/settlement?rule=support_service")
    day = today()
    row = finance.locator(  # this year's posting (the other tests' are of last year)
        "section[aria-labelledby=postings] tbody tr", has_text=f"{day.year}年{day.month}月{day.day}日"
    ).filter(has_text="两江新区残疾人康复服务中心")
    assert row.count() == 1
    assert "200.00元" in row.first.inner_text() and "支持性服务补贴" in row.first.inner_text()
    assert "平衡" in finance.locator(".counts").inner_text()
    assert_accessible(finance)
    screenshot(finance, "50-settlement")
    row.first.get_by_role("link", name=re.compile("^说明")).click()
    assert "支持性服务补贴" in finance.get_by_role("heading", level=1).inner_text()
    sources = finance.locator("section[aria-labelledby=sources]").inner_text()
    assert "残联办审批同意" in sources and "康复服务记录" in sources
    assert_accessible(finance)
    screenshot(finance, "51-posting-explanation")
    download = finance.request.get(
        "/settlement/annual-summary", params={"year": today().year, "street": "鸳鸯"}
    )
    assert download.ok and "spreadsheetml" in download.headers["content-type"]


def _propose(page: Any, application_id: str, block: str, **names: str) -> None:
    page.goto(f"/approval/applications/{application_id}")
    page.get_by_role("link", name=f"填写{block}").click()
    page.get_by_label(re.compile("^意见")).fill("同意")
    for role, name in names.items():
        page.get_by_label(re.compile(f"^{role}")).fill(name)
    page.get_by_role("button", name="提出本栏意见并签字").click()
    page.wait_for_url(re.compile(r"\?done=proposed"))
