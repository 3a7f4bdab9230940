"""Registering in the browser against the real survey service: the 社区 field suggests the street's known
communities, a typo (鸳鸯一社区 for 鸳鸯第一社区) is caught and confirmed only on purpose, and an unreadable
出生日期 is said in the hint's format together with the service's other findings, all at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import Stack, assert_accessible, login, screenshot
from tests.console.test_street import fill_person, person_fields
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e


def test_a_typed_community_new_to_the_street_is_confirmed_and_a_bad_birth_date_comes_with_the_rest(
    page: Any, stack: Stack
) -> None:
    stack.journey().register(certified_adult(231))  # someone of 鸳鸯第一社区
    login(page, "鸳鸯调查员")
    page.goto("/street/persons/new")
    suggested = page.locator("datalist#known-communities option")
    assert "鸳鸯第一社区" in suggested.evaluate_all("options => options.map(o => o.value)")
    person = person_fields(11, "周新区")
    fill_person(page, person)
    page.get_by_label("社区", exact=False).first.fill("鸳鸯一社区")
    page.get_by_role("button", name="登记", exact=True).click()
    field = page.locator("#f-community ~ .field-error").first
    assert "本街道还没有登记过“鸳鸯一社区”的人员。是否应为“鸳鸯第一社区”？" in field.inner_text()
    confirm = page.get_by_role("checkbox", name=re.compile("确认“鸳鸯一社区”是本街道新的社区"))
    assert not confirm.is_checked()
    assert_accessible(page)
    screenshot(page, "14-register-new-community")

    page.locator("#f-community").fill("鸳鸯第一社区")
    page.get_by_label("出生日期").fill("1968年2月30日")
    page.get_by_label(re.compile("^联系电话")).fill("12345")
    page.get_by_role("button", name="登记", exact=True).click()
    summary = page.get_by_role("alert").inner_text()
    assert "“1968年2月30日”不是有效的日期，应为日期，如 1968年4月2日" in summary
    assert "联系电话" in summary  # the service's finding on the rest, in the same answer
    assert "2999" not in summary and "2024-10-15" not in summary
    assert page.locator("#f-birth_date").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "15-register-bad-birth-date")
