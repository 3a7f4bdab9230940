"""一人一档 and 删除个人信息 in the browser: a person driven through a year over the APIs, read by an
auditor (every section) and by a street clerk (the survey only); another street's person refused; a
street office's 负责人 forgetting a person after retyping the ID number."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from console.app import create_console_app
from console.settings import ConsoleSettings
from rehab.local_redis import free_port
from rehab.users import set_console_password
from tests.console.conftest import JOURNEY_YEAR, PASSWORD, Stack, assert_accessible, login, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

ITEM = "orientation_mobility_training"
"""盲人定向行走及适应训练 at 区第一人民医院, subsidised 免费 in rehab.journey's plan."""


def served(stack: Stack, sequence: int) -> tuple[str, str]:
    """A 鸳鸯 person approved for the item and served, settlement caught up: (person, application)."""
    application_id, person_id = stack.approved(sequence, [ITEM])
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    journey.deliver(application_id, person_id, ITEM, guardian=False)
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    return person_id, application_id


def surveyed(stack: Stack, sequence: int, street: str = "鸳鸯") -> tuple[str, dict[str, Any]]:
    """A person registered and surveyed with needs over the survey API: (person id, registration)."""
    journey = stack.journey()
    person = certified_adult(sequence, street=street)
    if street != "鸳鸯":
        with stack.survey_api(f"{street}调查员") as api:
            created = api.post("/persons", json={**person, "registered_on": journey.day(3, 1)})
            assert created.status_code == 201, created.text
            return str(created.json()["person_id"]), person
    person_id = journey.register(person)
    journey.survey(person_id, [ITEM])
    return person_id, person


def section(page: Any, title: str) -> str:
    return str(page.locator("section", has=page.get_by_role("heading", name=re.compile(title))).inner_text())


def forgotten(stack: Stack, person_id: str) -> bool:
    with stack.survey_api("鸳鸯调查负责人") as api:
        return bool(api.get(f"/persons/{person_id}").json()["forgotten"])


@pytest.fixture(scope="module")
def served_year(stack: Stack) -> tuple[str, str]:
    """One person of 鸳鸯 taken through a whole year: surveyed, assessed, approved, served, paid."""
    return served(stack, 121)


@pytest.fixture
def served_person(served_year: tuple[str, str]) -> str:
    return served_year[0]


@pytest.fixture
def served_application(served_year: tuple[str, str]) -> str:
    return served_year[1]


def printed(page: Any) -> dict[str, str]:
    """The page's 打印 links (their visible text) and where each leads."""
    links = page.locator("main a[href^='/print/']")
    return {links.nth(i).inner_text(): links.nth(i).get_attribute("href") for i in range(links.count())}


def test_an_auditor_reads_every_section_of_a_person_served_through_a_year(
    pages: Any, stack: Stack, served_person: str, served_application: str
) -> None:
    person_id = served_person
    auditor = pages("审计员")
    response = auditor.goto(f"/persons/{person_id}")
    assert response is not None and response.status == 200
    name = certified_adult(121)["name"]
    assert auditor.get_by_role("heading", level=1).inner_text() == f"一人一档 · {name}"
    assert "无权查看" not in auditor.content()
    survey = section(auditor, "登记与康复需求调查")
    assert "盲人定向行走及适应训练" in survey and "3月15日" in survey
    assessment = section(auditor, "康复需求评估与转介")
    assert "两江新区第一人民医院康复评估中心" in assessment and "转介：区第一人民医院" in assessment
    application = section(auditor, "补助申请审批表")
    assert "已批准" in application and "同意：免费" in application and "服务卡号" in application
    sign_offs = section(auditor, "审核签字")
    for signer in ("鸳鸯社区主任", "鸳鸯街道复核人", "区残联办负责人"):
        assert signer in sign_offs
    assert "5月8日" in sign_offs and "5月20日" in sign_offs
    records = section(auditor, "康复服务记录")
    assert "康复治疗师 周敏" in records and "3,000.00元" in records
    payments = section(auditor, "结算与支付")
    assert "需求调查工作经费" in payments and "康复服务项目补助" in payments and "合计" in payments
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", auditor.locator("main").inner_text())
    assert printed(auditor) == {
        "打印手册（附件1 PDF）": f"/print/handbook/{person_id}.pdf",
        "打印审批表（附件2 PDF）": f"/print/applications/{served_application}.pdf",
        "打印服务卡（附件4 PDF）": f"/print/service-cards/{served_application}.pdf",
    }
    assert_accessible(auditor)
    screenshot(auditor, "60-person-journey-auditor")
    auditor.get_by_role("heading", name=re.compile("结算与支付")).scroll_into_view_if_needed()
    screenshot(auditor, "61-person-journey-payments")

    reads = [(row[1], row[7]) for row in stack.audit(person_id)]
    assert ("审计员", "查看个人全程档案") in reads


def test_the_district_office_reads_its_own_parts_with_the_name_the_registry_releases(
    pages: Any, served_person: str, served_application: str
) -> None:
    office = pages("区残联办经办人")
    office.goto(f"/persons/{served_person}")
    assert office.get_by_role("heading", level=1).inner_text() == f"一人一档 · {certified_adult(121)['name']}"
    assert "无权查看（街道康复需求调查系统）" in section(office, "登记与康复需求调查")
    assert "同意：免费" in section(office, "补助申请审批表")
    assert "区残联办负责人" in section(office, "审核签字")
    assert "无权查看（康复服务记录系统）" in section(office, "康复服务记录")
    assert "无权查看（结算系统）" in section(office, "结算与支付")
    assert printed(office) == {  # no 手册: the office keeps none of its pages
        "打印审批表（附件2 PDF）": f"/print/applications/{served_application}.pdf",
        "打印服务卡（附件4 PDF）": f"/print/service-cards/{served_application}.pdf",
    }
    assert_accessible(office)
    screenshot(office, "65-person-journey-district-office")


def test_the_persons_name_leads_to_their_journey_from_the_assessment_and_settlement_pages(
    pages: Any, served_person: str
) -> None:
    name = certified_adult(121)["name"]
    journey_link = f"main a[href='/persons/{served_person}']"
    doctor = pages("评估医生")
    doctor.goto(f"/assessment?year={JOURNEY_YEAR}&show=all")
    assert doctor.locator(journey_link).inner_text() == name
    doctor.locator(journey_link).click()
    assert doctor.get_by_role("heading", level=1).inner_text() == f"一人一档 · {name}"

    auditor = pages("审计员")
    auditor.goto(f"/persons/{served_person}")
    auditor.get_by_role("link", name=re.compile("^说明：.*需求调查工作经费")).first.click()
    assert auditor.get_by_role("heading", level=1).inner_text().startswith("记账说明")
    assert auditor.locator(journey_link).first.inner_text() == name  # the posting's 姓名
    assert_accessible(auditor)
    auditor.locator(journey_link).first.click()
    assert auditor.get_by_role("heading", level=1).inner_text() == f"一人一档 · {name}"


def test_a_street_clerk_reads_the_survey_and_no_other_agencys_part(page: Any, stack: Stack) -> None:
    person_id, person = surveyed(stack, 122)
    login(page, "鸳鸯调查员")
    page.goto(f"/persons/{person_id}")
    assert person["name"] in page.get_by_role("heading", level=1).inner_text()
    assert "盲人定向行走及适应训练" in section(page, "登记与康复需求调查")
    for title, system in zip(
        ("康复需求评估与转介", "补助申请审批表", "康复服务记录", "结算与支付"),
        ("康复评估系统", "补助申请审批系统", "康复服务记录系统", "结算系统"),
        strict=True,
    ):
        assert f"无权查看（{system}）" in section(page, title)
    assert "无权查看（补助申请审批系统）" in section(page, "审核签字")  # the sign-offs are approval's
    assert page.get_by_role("link", name="删除个人信息").count() == 0  # a clerk without the role 负责人
    assert printed(page) == {"打印手册（附件1 PDF）": f"/print/handbook/{person_id}.pdf"}
    assert_accessible(page)
    screenshot(page, "62-person-journey-street")


def test_another_streets_person_is_refused_by_url(page: Any, stack: Stack) -> None:
    person_id, person = surveyed(stack, 123, street="人和")
    login(page, "鸳鸯调查员")
    response = page.goto(f"/persons/{person_id}")
    assert response is not None and response.status == 403
    assert "无权查看" in page.get_by_role("heading", level=1).inner_text()
    assert person["name"] not in page.content()
    assert stack.audit(person_id) == []  # refused: nothing read, nothing audited


def test_a_street_office_responsible_forgets_a_person_after_retyping_the_id_number(
    page: Any, stack: Stack
) -> None:
    person_id, person = surveyed(stack, 124)
    login(page, "鸳鸯调查负责人")
    page.goto(f"/persons/{person_id}")
    page.get_by_role("link", name="删除个人信息").click()
    assert "不可撤销" in page.locator("main").inner_text()
    page.get_by_label(re.compile("^请再次输入此人的身份证号")).fill(person["id_number"][:-2] + "00")
    page.get_by_role("button", name=re.compile("^删除个人信息")).click()
    field = page.get_by_label(re.compile("^请再次输入此人的身份证号"))
    assert field.get_attribute("aria-invalid") == "true"
    alert = page.get_by_role("alert").inner_text()
    assert "不一致，未执行删除" in alert
    assert "未能删除" in alert and "未能保存" not in alert  # nothing was being saved
    assert not forgotten(stack, person_id)  # a wrong confirmation sends nothing
    assert_accessible(page)
    screenshot(page, "63-forget-mismatch")

    field.fill(person["id_number"].lower())
    page.get_by_role("button", name=re.compile("^删除个人信息")).click()
    page.wait_for_url(re.compile(rf"/persons/{person_id}\?done=forgotten"))
    assert "个人信息已删除" in page.get_by_role("heading", level=1).inner_text()
    assert person["name"] not in page.locator("main").inner_text()
    assert page.get_by_role("link", name="删除个人信息").count() == 0
    assert forgotten(stack, person_id)
    assert_accessible(page)
    screenshot(page, "64-person-forgotten")


def test_a_forced_forget_without_the_role_is_refused_by_the_survey_service(page: Any, stack: Stack) -> None:
    person_id, person = surveyed(stack, 125)
    login(page, "鸳鸯调查员")
    page.goto(f"/persons/{person_id}/forget")
    assert page.locator("form[action$='/forget']").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forced = page.request.post(
        f"/persons/{person_id}/forget",
        form={"csrf_token": csrf, "form_key": "forced-1", "confirmation": person["id_number"]},
    )
    assert forced.status == 403
    assert "只有本街道的负责人可以删除个人信息，服务已拒绝（需要以下角色之一：负责人）" in forced.text()
    assert not forgotten(stack, person_id)


def test_a_service_that_does_not_answer_leaves_its_section_saying_so(stack: Stack, tmp_path: Path) -> None:
    person_id, _person = surveyed(stack, 126)
    settings = ConsoleSettings(
        var_dir=tmp_path,
        access_dir=stack.directory.folder,
        survey_url=stack.services.url("survey"),
        assessment_url=stack.services.url("assessment"),
        approval_url=stack.services.url("approval"),
        delivery_url=stack.services.url("delivery"),
        settlement_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    set_console_password(stack.directory, settings.store_url, "审计员", PASSWORD, must_change=False)
    with TestClient(create_console_app(settings)) as console:
        form = console.get("/login").text
        token = re.search(r'name="login_token" value="([^"]*)"', form)
        assert token is not None
        console.post("/login", data={"username": "审计员", "password": PASSWORD, "login_token": token[1]})
        answer = console.get(f"/persons/{person_id}")
    assert answer.status_code == 200
    assert "结算系统暂时无法访问" in answer.text and "本页其余部分照常显示" in answer.text
    assert certified_adult(126)["name"] in answer.text and "盲人定向行走及适应训练" in answer.text
