"""The sign-offs of 附件2 in the browser: a community clerk proposes 社区意见 and its 负责人 confirms it with
their own login; the street's three signatories; 区残联办 decides item by item (定额 and amount) and its
复核人 and 经办人 confirm. Refused blocks come back as typed with the service's message at the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import JOURNEY_YEAR, PASSWORD, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


def applied(stack: Stack, sequence: int) -> str:
    return stack.applied(sequence, NEEDS)[0]


def confirm(page: Any, application_id: str, block: str) -> None:
    page.goto("/approval")
    # This application's row: other tests on the shared stack may leave blocks waiting for the same clerk.
    rows = page.locator("section[aria-labelledby=to-sign] tr", has_text=block)
    row = rows.filter(has=page.locator(f'a[href*="{application_id}"]'))
    row.get_by_role("link", name=re.compile("查看并确认")).click()
    page.get_by_role("button", name=f"本人确认签字（{block}）").click()
    page.wait_for_url(re.compile(rf"/approval/applications/{application_id}\?done="))


def test_each_level_signs_in_person_and_the_district_office_decides_item_by_item(
    pages: Any, stack: Stack
) -> None:
    application_id = applied(stack, 61)
    label = "鸳鸯街道 第61号申请"

    community = pages("鸳鸯社区协调员")
    community.goto("/approval")
    assert community.get_by_role("heading", level=1).inner_text() == "鸳鸯街道鸳鸯第一社区 · 社区审核"
    community.get_by_role("link", name=label).click()
    assert community.get_by_role("heading", level=1).inner_text() == "补助申请审批表 · 测试己"
    assert "中途盲者心理疏导" in community.get_by_role("table").first.inner_text()
    printed = community.get_by_role("link", name="打印审批表（附件2 PDF）")
    assert printed.get_attribute("href") == f"/print/applications/{application_id}.pdf"
    assert community.get_by_role("link", name=re.compile("打印服务卡")).count() == 0  # not approved yet
    assert_accessible(community)
    community.get_by_role("link", name="填写社区意见").click()
    assert community.get_by_label(re.compile("^经办人")).input_value() == "鸳鸯社区协调员"
    community.get_by_label(re.compile("^意见")).fill("情况属实，同意上报")
    community.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}年5月8日")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    # No 负责人: refused by the service, the message at the field and the opinion kept.
    assert "未能保存" in community.get_by_role("alert").inner_text()
    assert community.get_by_label(re.compile("^意见")).input_value() == "情况属实，同意上报"
    assert community.locator("#f-signatories-responsible").get_attribute("aria-invalid") == "true"
    assert_accessible(community)
    screenshot(community, "20-community-block-error")
    community.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    community.wait_for_url(re.compile(r"\?done=proposed"))
    assert "待本人登录确认" in community.locator("#sign-offs").inner_text()
    assert_accessible(community)
    screenshot(community, "25-pending-sign-off")

    chief = pages("鸳鸯社区主任")
    chief.goto("/approval")
    to_sign = chief.locator("section[aria-labelledby=to-sign]")
    rows = to_sign.locator("tbody tr").count()
    first_count = chief.locator("ul.counts li").first.inner_text()
    assert "待我签字" in first_count and str(rows) in first_count  # the service's awaiting_signature=me
    assert to_sign.get_by_role("heading").inner_text() == f"待我签字（{rows}）"
    row = to_sign.locator("tbody tr", has_text=label)
    assert "测试己" in row.inner_text()  # 姓名 from the registry, not an id
    assert_accessible(chief)
    screenshot(chief, "24-awaiting-my-signature")
    confirm(chief, application_id, "社区意见")
    assert "意见已生效" in chief.get_by_role("status").inner_text()
    chief.goto("/approval")
    assert to_sign.locator("tbody tr", has_text=label).count() == 0

    handler = pages("鸳鸯街道经办人")
    handler.goto(f"/approval/applications/{application_id}")
    handler.get_by_role("link", name="填写街道意见").click()
    handler.get_by_label(re.compile("^意见")).fill("同意")
    handler.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}-05-12")
    handler.get_by_label(re.compile("^负责人")).fill("鸳鸯街道负责人")
    handler.get_by_label(re.compile("^复核人")).fill("鸳鸯街道复核人")
    handler.get_by_role("button", name="提出本栏意见并签字").click()
    handler.wait_for_url(re.compile(r"\?done=proposed"))
    for signer in ("鸳鸯街道复核人", "鸳鸯街道负责人"):
        confirm(pages(signer), application_id, "街道意见")

    office_handler = pages("区残联办经办人")  # signs 残联办意见 only after the 负责人 proposed it
    office_handler.goto(f"/approval/applications/{application_id}")
    assert office_handler.get_by_role("link", name=re.compile("填写残联办意见")).count() == 0
    assert "残联办意见由区残联办负责人填写并签字" in office_handler.locator(".who-signs").inner_text()
    screenshot(office_handler, "21b-decision-not-for-the-handler")
    office_handler.goto(f"/approval/applications/{application_id}/decision")
    assert office_handler.url.endswith(f"/approval/applications/{application_id}")

    office = pages("区残联办负责人")
    office.goto("/approval")
    waiting = office.locator("section[aria-labelledby=waiting]").inner_text()
    assert label in waiting and "已超期" in waiting
    assert label in office.locator("section[aria-labelledby=overdue]").inner_text()
    assert_accessible(office)
    screenshot(office, "21-district-worklist")
    office.get_by_role("link", name=label).first.click()
    office.get_by_role("link", name=re.compile("填写残联办意见")).click()
    office.get_by_label(re.compile("^审批日期")).fill(f"{JOURNEY_YEAR}/5/20")
    office.get_by_label(re.compile("^复核人")).fill("区残联办复核人")
    office.get_by_label(re.compile("^经办人")).fill("区残联办经办人")
    office.get_by_label("整份申请不予批准").check()
    office.get_by_role("button", name="提出残联办意见并签字").click()
    # The service's message in the form's words: no API field name (reason, body), amounts in 元.
    said = office.get_by_role("alert").inner_text()
    assert "不予批准须写明理由，且不填同意的项目和不予批准的项目" in said, said
    assert not re.search(r"[a-z]{3,}", said), said
    screenshot(office, "22b-decision-refused-in-words")
    office.get_by_label("逐项审批（至少同意一项）").check()
    office.get_by_label("定额补助", exact=True).check()
    office.get_by_role("button", name="提出残联办意见并签字").click()
    # 定额 without an amount: refused, everything typed still there.
    said = office.get_by_role("alert").inner_text()
    assert "未能保存" in said and "定额补助须填写大于 0 的金额" in said
    assert "amount_fen" not in said and "单位分" not in said
    office.get_by_label("定额补助金额（元）").fill("99999999")
    office.get_by_role("button", name="提出残联办意见并签字").click()
    said = office.get_by_role("alert").inner_text()
    assert "应不大于 1,000,000.00元" in said and "100000000" not in said, said
    assert office.get_by_label("定额补助", exact=True).is_checked()
    assert office.get_by_label(re.compile("^复核人")).input_value() == "区残联办复核人"
    assert_accessible(office)
    office.get_by_label("定额补助金额（元）").fill("200")
    screenshot(office, "22-decision-form")
    office.get_by_role("button", name="提出残联办意见并签字").click()
    office.wait_for_url(re.compile(r"\?done=proposed"))
    reviewer = pages("区残联办复核人")
    reviewer.goto(f"/approval/applications/{application_id}")
    pending = reviewer.locator("#sign-offs").inner_text()  # what the signatory signs, before signing it
    assert "逐项审批" in pending and "中途盲者心理疏导" in pending and "定额补助 200.00元" in pending
    assert f"{JOURNEY_YEAR}年5月20日" in pending
    screenshot(reviewer, "28-pending-decision-shown")
    for signer in ("区残联办复核人", "区残联办经办人"):
        confirm(pages(signer), application_id, "残联办意见")
    office.goto(f"/approval/applications/{application_id}")
    assert "已批准" in office.locator(".subtitle").inner_text()
    assert "定额补助 200.00元" in office.get_by_role("table").first.inner_text()
    assert "区残联办复核人" in office.locator(".blocks").inner_text()
    card = office.get_by_role("link", name=re.compile(r"^打印服务卡（附件4 PDF）：LJ\d{4}-"))
    assert card.get_attribute("href") == f"/print/service-cards/{application_id}.pdf"
    assert_accessible(office)
    screenshot(office, "23-application")
    with stack.api("approval", "区残联办经办人") as api:
        decided = api.get(f"/applications/{application_id}").json()
    assert decided["decision"]["approved_items"][0]["amount_fen"] == 20000


def test_a_signatory_declines_with_a_reason_and_the_block_is_withdrawn(pages: Any, stack: Stack) -> None:
    application_id = applied(stack, 62)
    community = pages("鸳鸯社区协调员")
    community.goto(f"/approval/applications/{application_id}/review")
    community.get_by_label(re.compile("^意见")).fill("同意上报")
    community.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}-05-08")
    community.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    community.wait_for_url(re.compile(r"\?done=proposed"))

    chief = pages("鸳鸯社区主任")
    chief.goto(f"/approval/applications/{application_id}")
    assert_accessible(chief)
    screenshot(chief, "27-confirm-or-decline")
    chief.get_by_role("button", name="不同意，撤回该签字栏").click()
    assert chief.get_by_role("alert").is_visible()  # a decline needs its reason
    chief.get_by_label("拒签理由（不同意时填写）").fill("意见与入户核查情况不符")
    chief.get_by_role("button", name="不同意，撤回该签字栏").click()
    chief.wait_for_url(re.compile(r"\?done=declined"))
    assert chief.locator("#sign-offs").count() == 0  # withdrawn: the block may be proposed anew
    assert chief.get_by_role("link", name="填写社区意见").is_visible()
    with stack.api("approval", "鸳鸯社区主任") as api:
        application = api.get(f"/applications/{application_id}").json()
    assert application["pending_sign_offs"] == [] and application["status"] == "awaiting_community_review"


def test_a_block_sent_after_the_session_expired_comes_back_filled_in_after_the_login(
    pages: Any, stack: Stack
) -> None:
    application_id = applied(stack, 63)
    community = pages("鸳鸯社区协调员")
    community.goto(f"/approval/applications/{application_id}/review")
    community.get_by_label(re.compile("^意见")).fill("经入户核查，情况属实")
    community.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    stack.expire_sessions("鸳鸯社区协调员")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    assert "/login" in community.url and "填写的内容已保留" in community.content()
    login_form = community.locator("form[action='/login']")
    login_form.get_by_label("用户名").fill("鸳鸯社区协调员")
    login_form.get_by_label("密码").fill(PASSWORD)
    community.get_by_role("button", name="登录").click()
    community.wait_for_url(re.compile(rf"/approval/applications/{application_id}/review\?kept="))
    assert community.get_by_label(re.compile("^意见")).input_value() == "经入户核查，情况属实"
    assert community.get_by_label(re.compile("^负责人")).input_value() == "鸳鸯社区主任"


def test_the_district_office_changes_an_items_institution_with_its_three_signatures(
    pages: Any, stack: Stack
) -> None:
    application_id, _person = stack.approved(64, ["orientation_mobility_training"])
    reviewer = pages("区残联办复核人")
    reviewer.goto(f"/approval/applications/{application_id}")
    assert reviewer.get_by_role("link", name="变更服务机构").count() == 0
    assert "变更服务机构由区残联办负责人提出" in reviewer.locator(".who-signs").inner_text()
    office = pages("区残联办负责人")
    office.goto(f"/approval/applications/{application_id}")
    office.get_by_role("link", name="变更服务机构").click()
    office.get_by_label(re.compile("盲人定向行走及适应训练（现为")).check()
    office.get_by_label(re.compile("^新的服务机构")).select_option(label="区第二人民医院")
    office.get_by_label(re.compile("^变更理由")).fill("申请人迁居，就近康复")
    office.get_by_label(re.compile("^复核人")).fill("区残联办复核人")
    office.get_by_label(re.compile("^经办人")).fill("区残联办经办人")
    office.get_by_role("button", name="提出变更并签字").click()  # 核定日期 today: not in the application year
    assert office.locator("#f-decided_on").get_attribute("aria-invalid") == "true"
    assert office.get_by_label(re.compile("^变更理由")).input_value() == "申请人迁居，就近康复"
    assert_accessible(office)
    screenshot(office, "26-institution-change-refused")
    office.get_by_label(re.compile("^核定日期")).fill(f"{JOURNEY_YEAR}-06-01")
    office.get_by_role("button", name="提出变更并签字").click()
    office.wait_for_url(re.compile(r"\?done=proposed"))
    for signer in ("区残联办复核人", "区残联办经办人"):
        confirm(pages(signer), application_id, "变更服务机构")
    office.goto(f"/approval/applications/{application_id}")
    changes = office.locator("section[aria-labelledby=changes]").inner_text()
    assert "区第二人民医院" in changes and f"{JOURNEY_YEAR}年6月1日" in changes
    assert_accessible(office)


def test_a_block_that_returns_the_application_shows_its_opinion_and_is_confirmed_in_a_second_step(
    pages: Any, stack: Stack
) -> None:
    application_id = applied(stack, 65)
    community = pages("鸳鸯社区协调员")
    community.goto(f"/approval/applications/{application_id}/review")
    community.get_by_label("不同意（退回申请）").check()
    community.get_by_label(re.compile("^意见")).fill("经入户核查，户籍不在本社区")
    community.get_by_label(re.compile("^签署日期")).fill(f"{JOURNEY_YEAR}-05-08")
    community.get_by_label(re.compile("^负责人")).fill("鸳鸯社区主任")
    community.get_by_role("button", name="提出本栏意见并签字").click()
    community.wait_for_url(re.compile(r"\?done=proposed"))

    chief = pages("鸳鸯社区主任")
    chief.goto(f"/approval/applications/{application_id}")
    pending = chief.locator("#sign-offs").inner_text()
    assert "不同意（退回申请）：经入户核查，户籍不在本社区" in pending
    assert f"{JOURNEY_YEAR}年5月8日" in pending
    screenshot(chief, "29-returning-block-shown")
    chief.get_by_role("button", name="本人确认签字（社区意见）").click()
    # The first click sends nothing: a page says what the signature does and asks again.
    assert "不同意，签字生效后申请将被退回" in chief.locator("main").inner_text()
    with stack.api("approval", "鸳鸯社区主任") as api:
        still = api.get(f"/applications/{application_id}").json()
    assert still["status"] == "awaiting_community_review" and len(still["pending_sign_offs"]) == 1
    assert_accessible(chief)
    screenshot(chief, "29b-confirm-return")
    chief.get_by_role("button", name="确认签字：不同意，退回申请").click()
    chief.wait_for_url(re.compile(r"\?done=effective"))
    assert "已退回" in chief.locator(".subtitle").inner_text()
    items = chief.get_by_role("table").first.inner_text()
    assert "未审批（申请已退回）" in items and "待审批" not in items
    chief.get_by_role("link", name=re.compile("一人一档")).first.click()  # the person's file says so too
    journey = chief.locator("main").inner_text()
    assert "未审批（申请已退回）" in journey and "待审批" not in journey


def test_an_incomplete_application_is_listed_for_the_community_and_its_attachments_handed_in(
    pages: Any, stack: Stack
) -> None:
    journey = stack.journey()
    person = certified_adult(66)
    person_id = journey.register(person)
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
    community.get_by_label(re.compile("^序号")).fill("66")
    community.get_by_label(re.compile("^申请日期")).fill(f"{JOURNEY_YEAR}-05-06")
    community.get_by_role("group", name=re.compile("^残疾类别")).get_by_label("视力").check()
    community.get_by_label("户口簿复印件").uncheck()  # not handed in yet: 资料不全
    community.get_by_role("button", name="提交申请").click()
    community.wait_for_url(re.compile(r"/approval/applications/[0-9a-f-]{36}\?done=submitted"))
    application_id = community.url.split("/approval/applications/")[1].split("?")[0]
    assert "资料不全" in community.locator(".subtitle").inner_text()

    community.goto("/approval")
    incomplete = community.locator("section[aria-labelledby=incomplete]")
    row = incomplete.locator("tbody tr", has_text="鸳鸯街道 第66号申请")
    assert "户口簿复印件" in row.inner_text()
    assert_accessible(community)
    screenshot(community, "24b-incomplete-listed")
    row.get_by_role("link", name="鸳鸯街道 第66号申请").click()
    handed_in = community.locator("#attachments")
    handed_in.get_by_role("button", name="记录补交资料").click()  # nothing ticked: the service refuses
    assert "未能保存" in community.get_by_role("alert").inner_text()
    assert community.locator("#f-attachments").get_attribute("aria-invalid") == "true"
    handed_in.get_by_label("户口簿复印件").check()
    handed_in.get_by_label(re.compile("^补交日期")).fill(f"{JOURNEY_YEAR}-05-07")
    assert_accessible(community)
    screenshot(community, "24c-attachments-form")
    handed_in.get_by_role("button", name="记录补交资料").click()
    community.wait_for_url(re.compile(r"\?done=attachments"))
    assert "待社区审核" in community.locator(".subtitle").inner_text()
    assert community.get_by_role("link", name="填写社区意见").is_visible()
    with stack.api("approval", "鸳鸯社区协调员") as api:
        application = api.get(f"/applications/{application_id}").json()
    assert application["missing_attachments"] == [] and application["status"] == "awaiting_community_review"
