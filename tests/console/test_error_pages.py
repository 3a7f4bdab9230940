"""What goes wrong outside a page's own handling is a Chinese page for the clerk: an unexpected error is a
500 with an error number the log carries (no trace, no English), a form over the body limit a 413 page."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import console.error_pages
from console.web import SignedIn
from tests.console.bare import console_client, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def failing_console(tmp_path: Path) -> TestClient:
    """A signed-in clerk's browser on a console one of whose pages fails unexpectedly, as a page did on
    ``charge=inf`` (OverflowError: cannot convert float infinity to integer)."""
    app: FastAPI = console_client(tmp_path).app  # type: ignore[assignment]

    @app.get("/street/failing")
    def failing(_clerk: SignedIn) -> None:
        raise OverflowError("cannot convert float infinity to integer")

    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    sign_in(client)
    return client


def test_an_unexpected_error_is_a_chinese_page_with_an_error_number_the_log_carries_and_no_trace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing_console(tmp_path)
    with caplog.at_level(logging.ERROR, logger="console"):
        page = client.get(
            "/street/failing", headers={**BROWSER, "Referer": "http://testserver/street/persons"}
        )

    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "<h1>系统出错了</h1>" in page.text and "没有完成" in page.text
    number = re.search(r"错误编号 <strong>([0-9a-f]{12})</strong>", page.text)
    assert number is not None
    assert any(number.group(1) in record.getMessage() and record.exc_info for record in caplog.records)
    for hidden in ("Traceback", "OverflowError", "infinity", "Internal Server Error"):
        assert hidden not in page.text
    assert (
        '<a href="/street/persons">返回上一页</a>' in page.text and '<a href="/">回到工作台</a>' in page.text
    )
    assert "孙干事" in page.text  # the clerk's own layout: their name, their navigation
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_way_back_is_only_ever_one_of_the_consoles_own_pages(tmp_path: Path) -> None:
    client = failing_console(tmp_path)
    for referer in ("https://evil.example/phish", "http://testserver//evil.example/", ""):
        page = client.get("/street/failing", headers={**BROWSER, "Referer": referer})
        assert '<a href="/">返回上一页</a>' in page.text


def test_when_the_error_page_itself_cannot_be_drawn_the_same_words_are_sent_without_the_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = failing_console(tmp_path)

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("template missing")

    monkeypatch.setattr(console.error_pages, "render", broken)
    page = client.get("/street/failing", headers=BROWSER)
    assert page.status_code == 500 and "系统出错了" in page.text and "错误编号" in page.text
    assert "RuntimeError" not in page.text and page.headers["Cache-Control"] == "no-store"


def test_a_form_over_a_mebibyte_from_the_browser_is_a_chinese_page_not_problem_json(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        sign_in(client)
        oversized = {"csrf_token": "x", "remarks": "x" * (1024 * 1024 + 1)}
        page = client.post(
            "/street/persons/new",
            data=oversized,
            headers={**BROWSER, "Referer": "http://testserver/street/persons/new"},
        )
        assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
        assert "<h1>提交的内容太大</h1>" in page.text and "超过 1 MB 的上限" in page.text
        assert '<a href="/street/persons/new">返回上一页</a>' in page.text
        assert page.headers["Connection"] == "close" and page.headers["X-Content-Type-Options"] == "nosniff"

        api = client.post("/street/persons/new", data=oversized)  # no browser: the kernel's problem
        assert api.status_code == 413 and api.headers["content-type"] == "application/problem+json"
