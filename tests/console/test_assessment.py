"""A designated assessment institution in the browser: its worklist, the 康复需求评估与转介记录 form (a
refused form keeps what was typed), a referral to a service institution, an escalation to the city level,
and the city institution assessing and referring the escalated item; approval then knows the referrals."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from console.agencies import AgencyClient
from console.names import UNSEEN_NAME, display_name, person_cards
from rehab.local_redis import free_port
from tests.console.conftest import JOURNEY_YEAR, Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

NEEDS = ["orientation_mobility_training", "low_vision_training"]


def test_an_assessor_assesses_refers_and_escalates_and_the_city_level_refers_the_rest(
    pages: Any, stack: Stack
) -> None:
    journey = stack.journey()
    person_id = journey.register(certified_adult(71))
    journey.survey(person_id, NEEDS)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))

    doctor = pages("评估医生")
    doctor.goto(f"/assessment?year={JOURNEY_YEAR}")
    assert f"{JOURNEY_YEAR}年度康复需求评估" in doctor.get_by_role("heading", level=1).inner_text()
    row = doctor.locator("tr").filter(
        has=doctor.locator(f"a[href^='/assessment/persons/{person_id}/assess']")
    )
    assert row.get_by_role("rowheader").inner_text() == "测试辛"  # the name the street registered
    reads = [(row[1], row[5], row[7]) for row in stack.audit(person_id)]
    assert ("评估医生", "POST /persons/cards:batch", "工作台：待评估人员") in reads  # the registry's audit
    assert_accessible(doctor)
    screenshot(doctor, "30-assessment-worklist")
    doctor.get_by_role("link", name=re.compile("^评估：测试辛")).first.click()
    assert "测试辛" in doctor.get_by_role("heading", level=1).inner_text()
    assert doctor.get_by_label("低视力视功能训练").is_checked()  # the survey's needs to start from
    doctor.get_by_label(re.compile("^评估人")).fill("")
    doctor.get_by_label(re.compile("^评估时间")).fill(f"{JOURNEY_YEAR}年4月10日")
    doctor.get_by_label(re.compile("^评估意见")).fill("建议转介；低视力转市级复评")
    doctor.get_by_role("button", name="保存评估").click()
    assert "未能保存" in doctor.get_by_role("alert").inner_text()
    assert doctor.locator("#f-assessor").get_attribute("aria-invalid") == "true"
    assert doctor.get_by_label(re.compile("^评估意见")).input_value() == "建议转介；低视力转市级复评"
    assert_accessible(doctor)
    doctor.get_by_label(re.compile("^评估人")).fill("评估医生 陈静")
    doctor.get_by_role("button", name="保存评估").click()
    doctor.wait_for_url(re.compile(r"/assessment/assessments/[0-9a-f-]{36}\?done=assessed"))
    assert "评估医生 陈静" in doctor.locator("table.handbook").inner_text()
    assert doctor.get_by_role("heading", level=1).inner_text().startswith("测试辛")

    doctor.get_by_role("group", name=re.compile("^转介去向")).get_by_label("转介至定点康复服务机构").check()
    doctor.get_by_label("定点康复服务机构（转介至服务机构时）").select_option("lj-first-hospital")
    doctor.get_by_label("盲人定向行走及适应训练").check()
    doctor.get_by_label(re.compile("^转介日期")).fill(f"{JOURNEY_YEAR}-04-12")
    doctor.get_by_role("button", name="出具转介").click()
    doctor.wait_for_url(re.compile(r"\?done=referred"))
    doctor.get_by_role("group", name=re.compile("^转介去向")).get_by_label("转市级评估机构复评").check()
    doctor.get_by_label("市级评估机构（转市级复评时）").select_option(index=1)
    doctor.get_by_label("低视力视功能训练").check()
    doctor.get_by_label(re.compile("^转介日期")).fill(f"{JOURNEY_YEAR}-04-12")
    doctor.get_by_role("button", name="出具转介").click()
    doctor.wait_for_url(re.compile(r"\?done=escalated"))
    referrals = doctor.locator("section[aria-labelledby=referrals] table").inner_text()
    assert "市级评估机构复评" in referrals and "定点康复服务机构" in referrals
    assert_accessible(doctor)
    screenshot(doctor, "31-assessment-record")

    city = pages("市级评估医生")
    journey.wait_until("the escalation reaches the city", lambda: _escalated(stack, person_id))
    journey.wait_until(
        "the registry learns of the escalation", lambda: _named_to(stack, "市级评估医生", person_id)
    )
    city.goto(f"/assessment?year={JOURNEY_YEAR}")
    city_row = city.locator("tr").filter(
        has=city.locator(f"a[href^='/assessment/persons/{person_id}/assess']")
    )
    assert city_row.get_by_role("rowheader").inner_text() == "测试辛"
    city.locator(f"a[href^='/assessment/persons/{person_id}/assess']").click()
    city.get_by_label("盲人定向行走及适应训练").uncheck()
    city.get_by_label(re.compile("^评估时间")).fill(f"{JOURNEY_YEAR}-04-20")
    city.get_by_role("button", name="保存评估").click()
    city.wait_for_url(re.compile(r"\?done=assessed"))
    city.get_by_label("定点康复服务机构（转介至服务机构时）").select_option("cq-aier-eye")
    city.get_by_label("低视力视功能训练").check()
    city.get_by_label(re.compile("^转介日期")).fill(f"{JOURNEY_YEAR}-04-21")
    city.get_by_role("button", name="出具转介").click()
    city.wait_for_url(re.compile(r"\?done=referred"))
    journey.wait_until(
        "the referrals reach approval", lambda: journey.referrals_reached_approval(person_id, NEEDS)
    )


def _named_to(stack: Stack, user: str, person_id: str) -> bool:
    """Whether the registry releases the person's name to the user (the survey follows events late)."""
    with stack.api("survey", user) as api:
        answer = api.post("/persons/cards:batch", json={"person_ids": [person_id]}).json()
    return bool(answer["cards"])


def _escalated(stack: Stack, person_id: str) -> bool:
    with stack.api("assessment", "市级评估医生") as api:
        page = api.get("/worklist", params={"year": JOURNEY_YEAR, "limit": 500}).json()
    return person_id in {entry["person_id"] for entry in page["items"]}


def test_names_read_as_unseen_and_the_page_goes_on_when_the_registry_cannot_be_reached() -> None:
    app = FastAPI()
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app.state.console = SimpleNamespace(
        agencies=AgencyClient({"survey": closed}, lambda user: "token", timeout=2)
    )
    request = Request({"type": "http", "app": app, "headers": []})
    clerk = SimpleNamespace(name="评估医生")
    person_id = uuid4()

    cards = person_cards(request, clerk, [person_id], purpose="工作台：待评估人员")  # type: ignore[arg-type]

    assert cards == {} and display_name(cards, person_id) == UNSEEN_NAME
