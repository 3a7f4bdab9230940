"""A phone's browser (390×844) for the console's browser tests, and how far a page is wider than it."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import Stack, login

PHONE = {"width": 390, "height": 844}


def phone_page(browser: Any, stack: Stack, user: str) -> Any:
    """A page of a new browser context at a phone's size, ``user`` signed in (close its context)."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=stack.url)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    login(opened, user)
    opened.wait_for_url(lambda url: "/login" not in url)
    return opened


def overflow(page: Any) -> int:
    """How far the page is wider than the window (0: nothing to scroll sideways)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def too_wide(page: Any, paths: list[str]) -> dict[str, int]:
    """The paths whose page is wider than the window, with by how much (each page loaded to its end)."""
    wide = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if (beyond := overflow(page)) > 0:
            wide[path] = beyond
    return wide
