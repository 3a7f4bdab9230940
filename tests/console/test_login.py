"""Signing in to the console: a first password change, back-off and lock-out, CSRF, logout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import PASSWORD, Stack, assert_accessible, login, screenshot

pytestmark = pytest.mark.e2e


def test_a_new_clerk_must_choose_a_password_at_first_login_and_then_sees_the_worklist(page: Any) -> None:
    page.goto("/street")
    assert "/login" in page.url  # not signed in: to the login page, and back after it
    assert_accessible(page)
    screenshot(page, "01-login")
    login(page, "新调查员")
    assert "/password" in page.url
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="保存新密码").click()
    assert "至少需要 10 个字符" in page.locator(".field-error").inner_text()
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Yuanyang-new-2025")
    page.get_by_label("再次输入新密码").fill("Yuanyang-new-2025")
    page.get_by_role("button", name="保存新密码").click()
    assert page.url.endswith("/street")
    assert page.get_by_role("heading", level=1).inner_text().startswith("鸳鸯街道")
    assert_accessible(page)
    screenshot(page, "02-worklist")


def test_wrong_passwords_slow_the_clerk_down_and_the_fifth_locks_the_account(page: Any) -> None:
    for attempt in range(1, 6):
        if attempt > 3:
            page.wait_for_timeout(200 * 2 ** (attempt - 4) + 100)  # the back-off (0.2 s in this console)
        login(page, "锁定测试员", "wrong-password")
        assert page.get_by_role("alert").is_visible()
    assert "账户已锁定" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    screenshot(page, "03-locked")
    login(page, "锁定测试员")  # the right password no longer helps
    assert "/login" in page.url and "账户已锁定" in page.get_by_role("alert").inner_text()
    login(page, "没有这个人", "whatever-it-is")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"


def test_a_form_sent_without_the_session_csrf_token_is_refused_and_records_nothing(
    page: Any, stack: Stack
) -> None:
    login(page, "鸳鸯调查员")
    with stack.survey_api("鸳鸯调查员") as api:
        before = api.get("/persons").json()["total"]
    forged = page.request.post(
        "/street/persons/new",
        form={"csrf_token": "forged", "form_key": "k1", "street": "鸳鸯", "name": "伪造"},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "表单校验码不符" in forged.text()
    with stack.survey_api("鸳鸯调查员") as api:
        assert api.get("/persons").json()["total"] == before


def test_logout_ends_the_session(page: Any) -> None:
    login(page, "鸳鸯调查员")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login**")
    assert "已安全退出" in page.content()
    page.goto("/street/persons")
    assert "/login" in page.url


def test_a_clerk_signs_in_and_reaches_the_persons_list_with_the_keyboard_alone(page: Any) -> None:
    page.goto("/login")
    # The user name field takes the focus by itself (autofocus); on a busy machine only once the page has
    # been laid out, so the keys wait for it rather than go nowhere.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-username'")
    page.keyboard.type("鸳鸯调查员")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/street")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    for _ in range(3):  # skip link, the site's name, 工作台
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "人员名单"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # visible focus
    page.keyboard.press("Enter")
    page.wait_for_url("**/street/persons")
