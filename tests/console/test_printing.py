"""Printing from the console (issue 15): an application signed off through the real services prints as
附件2 with its items and signatories, the person's 手册 prints for their street, and a clerk of another
street is refused; every read is audited with the purpose of printing."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest

from rehab.sample_people import resident_id
from tests.console.conftest import JOURNEY_YEAR, SCREENSHOTS, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult
from tests.printing.pdf import A4_LANDSCAPE, A4_PORTRAIT, compact, is_a4, page_sizes, text_of

pytestmark = pytest.mark.e2e

NEEDS = ["assistive_device_fitting", "support_service_midlife_blind"]


def test_an_approved_application_prints_as_the_form_with_its_items_and_who_signed_it(
    pages: Any, stack: Stack
) -> None:
    application_id, person_id = stack.approved(141, NEEDS)
    person = certified_adult(141)
    office = pages("区残联办经办人")

    response = office.request.get(f"/print/applications/{application_id}.pdf")

    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers  # the browser's PDF viewer is a plugin
    assert quote("附件2-补助申请审批表-鸳鸯街道-141.pdf") in response.headers["content-disposition"]
    pdf = response.body()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "70-print-application.pdf").write_bytes(pdf)  # to look at, as the screenshots
    assert all(is_a4(size, A4_PORTRAIT) for size in page_sizes(pdf))
    text = compact(text_of(pdf))
    assert f"（{JOURNEY_YEAR}年度）" in text and "序号：141" in text
    assert "☑2.辅助器具免费适配" in text and "☑（1）中途盲者心理疏导" in text
    assert "同意申请人享受辅助器具免费适配康复项目（补贴方式：☑免费□定额补助）" in text
    for signatory in ("鸳鸯社区主任", "鸳鸯社区协调员", "鸳鸯街道复核人", "区残联办负责人", "区残联办复核人"):
        assert signatory in text, signatory
    assert person["name"] in text and person["id_number"] in text  # the registry's card (console.names)
    reads = [(row[1], row[7]) for row in stack.audit(person_id)]
    assert ("区残联办经办人", "打印附件2补助申请审批表") in reads


def test_the_office_prints_the_persons_ethnicity_residence_insurance_and_guardian_from_the_registry(
    pages: Any, stack: Stack
) -> None:
    person = certified_adult(147) | {"medical_insurance": ["urban_employee", "medical_aid"]}
    guardian_id = resident_id(date(1975, 9, 9), 447, male=False)
    person["guardian"] = {"name": "监护人乙", "sex": "female", "phone": "13700130147", "relation": "配偶"}
    person["guardian"]["id_number"] = guardian_id
    application_id = _applied(stack, person, 147, ["assistive_device_fitting"])

    response = pages("区残联办经办人").request.get(f"/print/applications/{application_id}.pdf")

    assert response.status == 200
    pdf = response.body()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "71-print-application-guardian.pdf").write_bytes(pdf)
    text = compact(text_of(pdf))
    assert "民族汉族" in text
    assert f"户籍所在地{person['household_registration']}" in text
    assert f"现居住地{person['residence']}" in text
    assert "☑享受城镇职工基本医疗保险□享受城乡居民基本医疗保险" in text
    assert "☑享受医疗救助□享受其他保险□无医疗保险" in text
    assert f"监护人乙性别女{guardian_id}" in text  # the guardian's row, as pdftotext reads the table
    assert "13700130147" in text and "配偶" in text


def _applied(stack: Stack, person: dict[str, Any], serial: int, needs: list[str]) -> str:
    """Like ``stack.applied``, for a person of the test's own making."""
    journey = stack.journey()
    person_id = journey.register(person)
    journey.survey(person_id, needs)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    journey.assess_and_refer(person_id, needs, home_visit=False)
    journey.wait_until(
        "the referral reaches approval", lambda: journey.referrals_reached_approval(person_id, needs)
    )
    return journey.apply(person, person_id, needs, serial=serial)


def test_the_service_card_and_the_handbook_print_for_those_who_keep_them(pages: Any, stack: Stack) -> None:
    application_id, person_id = stack.approved(142, ["assistive_device_fitting"])
    person = certified_adult(142)

    card = pages("区残联办负责人").request.get(f"/print/service-cards/{application_id}.pdf")
    street = pages("鸳鸯调查员")
    handbook = street.request.get(f"/print/handbook/{person_id}.pdf")

    assert card.status == 200
    card_text = compact(text_of(card.body()))
    assert "残疾人精准康复服务卡" in card_text and f"卡号：LJ{JOURNEY_YEAR}-" in card_text
    assert "辅助器具免费适配" in card_text and "两江新区残疾人康复服务中心" in card_text
    assert f"{JOURNEY_YEAR}年12月31日" in card_text
    with stack.api("approval", "区残联办负责人") as approval:
        number = approval.get(f"/applications/{application_id}").json()["service_card_number"]
    by_number = pages("区残联办复核人").request.get(f"/print/service-cards/number/{number}.pdf")
    assert by_number.status == 200 and f"卡号：{number}" in compact(text_of(by_number.body()))
    assert handbook.status == 200
    handbook_text = compact(text_of(handbook.body()))
    for value in (
        person["name"],
        "汉族",
        person["address"],
        person["id_number"],
        person["certificate_number"],
    ):
        assert value in handbook_text, value
    reads = [(row[1], row[7]) for row in stack.audit(person_id)]
    assert ("鸳鸯调查员", "打印附件1精准康复服务手册") in reads


def test_another_streets_clerk_is_refused_the_handbook_and_nothing_is_printed(
    pages: Any, stack: Stack
) -> None:
    _application_id, person_id = stack.applied(143, ["assistive_device_fitting"])

    response = pages("人和调查员").request.get(f"/print/handbook/{person_id}.pdf")

    assert response.status == 403
    assert response.headers["content-type"].startswith("text/html")


def test_the_annual_summary_prints_landscape_for_finance_with_the_streets_persons(
    pages: Any, stack: Stack
) -> None:
    stack.applied(144, ["assistive_device_fitting"])
    person = certified_adult(144)
    finance = pages("财务科")
    finance.goto("/settlement")
    form = finance.locator("form", has=finance.get_by_role("heading", name=re.compile("^附件3")))
    pdf_button = form.get_by_role("button", name="打印附件3（PDF，A4横向）")
    assert pdf_button.get_attribute("formaction") == "/print/annual-summary.pdf"  # beside the xlsx
    assert form.get_by_role("button", name="下载附件3（xlsx）").is_visible()
    form.scroll_into_view_if_needed()
    assert_accessible(finance)
    screenshot(finance, "73-settlement-downloads")
    url = f"/print/annual-summary.pdf?street=鸳鸯&year={JOURNEY_YEAR}"

    text, pdf = "", b""
    deadline = time.monotonic() + 60
    while person["id_number"] not in text and time.monotonic() < deadline:  # settlement archives it
        response = finance.request.get(url)
        assert response.status == 200
        pdf = response.body()
        text = compact(text_of(pdf))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "72-print-annual-summary.pdf").write_bytes(pdf)  # to look at, as the screenshots
    assert all(is_a4(size, A4_LANDSCAPE) for size in page_sizes(pdf))
    assert "两江新区残疾人康复需求和康复服务情况汇总表" in text
    assert "街道：鸳鸯" in text and "社区：鸳鸯第一社区" in text  # pdftotext orders the two lines freely
    assert person["name"] in text and person["id_number"] in text and person["phone"] in text


def test_the_assessment_institution_prints_the_handbook_with_its_record_filled_in(
    pages: Any, stack: Stack
) -> None:
    _application_id, person_id = stack.applied(145, ["assistive_device_fitting"])
    person = certified_adult(145)
    doctor = pages("评估医生")
    doctor.goto(f"/assessment?year={JOURNEY_YEAR}&show=all")
    row = doctor.locator("tr", has=doctor.locator(f"a[href='/persons/{person_id}']"))
    row.get_by_role("link", name=re.compile("^评估记录")).first.click()
    link = doctor.get_by_role("link", name="打印手册（附件1 PDF）")
    assert link.get_attribute("href") == f"/print/handbook/{person_id}.pdf"

    response = doctor.request.get(f"/print/handbook/{person_id}.pdf")

    assert response.status == 200
    pdf = response.body()
    record = compact(text_of(pdf, first=4, last=4))
    assert "康复需求评估与转介记录" in record and "辅助器具免费适配" in record
    assert "是☑否□" in record and "两江新区残疾人康复服务中心（机构）" in record
    assert "评估医生陈静" in record
    assert person["name"] in compact(text_of(pdf, first=3, last=3))  # the registry's card


def test_the_service_institution_prints_the_card_of_an_item_approved_to_it(pages: Any, stack: Stack) -> None:
    application_id, _person_id = stack.approved(146, ["support_service_midlife_blind"])
    journey = stack.journey()
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )

    therapist = pages("康复中心治疗师")
    therapist.goto(f"/delivery/entitlements/{application_id}/support_service_midlife_blind/record")
    link = therapist.get_by_role("link", name=re.compile(r"^打印服务卡（附件4 PDF）：LJ"))
    assert link.get_attribute("href") == f"/print/service-cards/{application_id}.pdf"
    assert therapist.get_by_role("link", name=re.compile("一人一档$")).count() == 1

    response = therapist.request.get(f"/print/service-cards/{application_id}.pdf")

    assert response.status == 200
    text = compact(text_of(response.body()))
    assert f"卡号：LJ{JOURNEY_YEAR}-" in text and "中途盲者心理疏导" in text
    assert "两江新区残疾人康复服务中心" in text and certified_adult(146)["name"] in text
