"""Settlement's pages by scope: a street's clerk reads its own postings and no totals, an auditor reads the
whole ledger; a posting that does not exist is the service's Chinese refusal."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from kernel.domain.clock import today
from tests.console.conftest import Stack, assert_accessible, screenshot
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e


def test_a_streets_clerk_reads_its_own_account_and_an_auditor_the_whole_ledger(pages: Any) -> None:
    street = pages("鸳鸯街道结算员")
    street.goto("/settlement")
    assert street.get_by_role("heading", level=1).inner_text() == "鸳鸯街道 · 结算"
    assert street.locator("section[aria-labelledby=accounts]").count() == 0  # the totals are the district's
    for row in street.locator("section[aria-labelledby=postings] tbody tr").all():
        assert "鸳鸯街道" in row.inner_text()
    assert_accessible(street)
    auditor = pages("审计员")
    auditor.goto("/settlement")
    assert auditor.locator("section[aria-labelledby=accounts]").is_visible()
    response = auditor.goto(f"/settlement/postings/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    assert "没有编号为" in auditor.content()
    assert_accessible(auditor)


def surveyed_in_yuanyang(stack: Stack, sequence: int) -> None:
    """A person of 鸳鸯 registered and surveyed over the APIs, until settlement has posted the survey fee."""
    journey = stack.journey()
    person_id = journey.register(certified_adult(sequence))
    journey.survey(person_id, ["orientation_mobility_training"])
    with stack.api("settlement", "财务科") as settlement:

        def posted() -> bool:
            page = settlement.get("/ledger/postings", params={"rule": "survey_fee", "limit": 500}).json()
            return any(person_id in posting["key"] for posting in page["items"])

        journey.wait_until("settlement posts the survey fee", posted)


def test_an_auditor_replays_the_ledger_as_of_yesterday_and_sees_what_changed_since(
    pages: Any, stack: Stack
) -> None:
    surveyed_in_yuanyang(stack, 181)
    auditor = pages("审计员")
    auditor.goto("/settlement")
    auditor.get_by_role("link", name="历史回放").click()
    assert auditor.get_by_role("heading", level=1).inner_text() == "历史回放（截至某日）"
    auditor.get_by_label("截至日期").fill((today() - timedelta(days=1)).isoformat())
    auditor.get_by_role("button", name="回放").click()
    table = auditor.locator("section[aria-labelledby=as-of] table")
    yuanyang = table.locator("tbody tr", has_text="鸳鸯街道")
    assert yuanyang.get_attribute("class") == "changed"  # everything of the tests arrived today
    assert (
        "+" not in yuanyang.locator("td").last.inner_text()
        and "-" in yuanyang.locator("td").last.inner_text()
    )
    assert "account" not in table.inner_text() and "street:" not in table.inner_text()
    screenshot(auditor, "settlement-replay-as-of")
    assert_accessible(auditor)
    auditor.get_by_label("截至日期").fill(today().isoformat())
    auditor.get_by_role("button", name="回放").click()
    assert table.locator("tr.changed").count() == 0  # the end of today is the live ledger
    auditor.get_by_role("link", name="结算", exact=True).click()
    unsettled = auditor.locator("section[aria-labelledby=unsettled]")
    unsettled.scroll_into_view_if_needed()
    assert "结算系统以英文记录" not in unsettled.inner_text()
    screenshot(auditor, "settlement-ledger-unsettled")


def test_an_auditor_tries_shapingbas_policy_and_every_fee_it_does_not_state_shows_as_a_loss(
    pages: Any, stack: Stack
) -> None:
    surveyed_in_yuanyang(stack, 182)
    auditor = pages("审计员")
    auditor.goto("/settlement/what-if")
    options = auditor.get_by_role("combobox", name="政策").locator("option").all_inner_texts()
    assert "重庆两江新区残疾人精准康复服务行动实施方案（本区政策）" in options
    auditor.get_by_role("combobox", name="政策").select_option(label="沙坪坝区“惠残2023工程”工作方案")
    auditor.get_by_role("button", name="测算").click()
    payees = auditor.locator("section[aria-labelledby=payees]")
    yuanyang = payees.locator("tbody tr", has_text="鸳鸯街道")
    assert "减少" in yuanyang.inner_text() and yuanyang.get_attribute("class") == "changed"
    funds = auditor.locator("section[aria-labelledby=funds]").inner_text()
    assert "两江新区财政" in funds and "fund:" not in funds
    assert "区级财政" in auditor.locator("section[aria-labelledby=levels]").inner_text()
    assert "沙府办发〔2023〕100号" in auditor.locator("section[aria-labelledby=basis]").inner_text()
    screenshot(auditor, "settlement-what-if")
    assert_accessible(auditor)


def test_a_date_still_to_come_is_refused_at_the_field_and_a_streets_clerk_may_not_replay(pages: Any) -> None:
    auditor = pages("审计员")
    auditor.goto("/settlement/replay")
    auditor.get_by_label("截至日期").fill((today() + timedelta(days=30)).isoformat())
    auditor.get_by_role("button", name="回放").click()
    assert "将来的日期" in auditor.locator(".field-error").inner_text()
    assert auditor.get_by_label("截至日期").get_attribute("aria-invalid") == "true"
    screenshot(auditor, "settlement-replay-refused")
    assert_accessible(auditor)
    street = pages("鸳鸯街道结算员")
    street.goto("/settlement")
    assert street.get_by_role("link", name="历史回放").count() == 0
    response = street.goto(f"/settlement/replay?date={today().isoformat()}")
    assert response is not None and response.status == 403
    assert "区级" in street.content()


def test_a_postings_explanation_reads_in_chinese_and_names_no_english_clause(
    pages: Any, stack: Stack
) -> None:
    surveyed_in_yuanyang(stack, 183)
    finance = pages("财务科")
    finance.goto("/settlement?rule=survey_fee")
    finance.locator("section[aria-labelledby=postings] tbody tr a", has_text="说明").first.click()
    clause = finance.locator("section[aria-labelledby=clause]").inner_text()
    assert "需求调查工作经费：每完成 1 名残疾人康复需求调查" in clause and "30.00 元/人" in clause
    assert not any(word in clause for word in ("per person", "insurance first", "street."))
    assert "两江新区财政" in finance.locator("dl.facts").inner_text()
    screenshot(finance, "settlement-posting-explanation")
    assert_accessible(finance)


def test_a_survey_before_the_policy_took_effect_waits_unsettled_with_a_chinese_reason_and_the_persons_name(
    pages: Any, stack: Stack
) -> None:
    journey = stack.journey()
    journey.year = 2023  # 渝两江管发〔2024〕18号 governs from 2024-09-29: no policy prices a 2023 survey
    person = certified_adult(184)
    person_id = journey.register(person)
    journey.survey(person_id, ["orientation_mobility_training"])
    with stack.api("settlement", "财务科") as settlement:

        def waiting() -> bool:
            items = settlement.get("/ledger/unsettled").json()
            return any(item["person_id"] == person_id for item in items)

        journey.wait_until("settlement lists the survey as unsettled", waiting)
    finance = pages("财务科")
    finance.goto("/settlement#unsettled")
    row = finance.locator("section[aria-labelledby=unsettled] tbody tr", has_text="2023年需求调查工作经费")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == person["name"]
    assert cells[2] == "2023年3月15日没有施行中的结算政策"
    screenshot(finance, "settlement-unsettled-named")
    assert_accessible(finance)
