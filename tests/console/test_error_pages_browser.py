"""The error pages as a clerk's Chromium shows them: a mistyped address, another agency's pages, the login."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.e2e


def test_a_mistyped_address_and_another_agencys_page_read_in_chinese(pages: Any) -> None:
    street = pages("鸳鸯调查员")
    answer = street.goto("/street/persons/new/survey")
    assert answer is not None and answer.status == 404
    said = street.locator("main").inner_text()
    assert "页面不存在" in said and "UUID" not in street.content()
    screenshot(street, "74-not-found")
    assert_accessible(street)
    answer = street.goto("/settlement")
    assert answer is not None and answer.status == 403
    said = street.locator("main").inner_text()
    assert "区残联办的系统管理员" in said and "settlement" not in said
    screenshot(street, "75-other-agency")
    assert_accessible(street)


def test_the_login_page_says_whom_to_ask(page: Any) -> None:
    page.goto("/login")
    assert "区残联办的系统管理员" in page.locator("main").inner_text()
    screenshot(page, "76-login")
