"""A bad address or an unreadable form is a Chinese page, not FastAPI's English JSON; a refusal for another
agency's pages names the agencies in Chinese and says what to do; the login and too-large pages name no
command and give the limits that apply."""

from __future__ import annotations

from pathlib import Path

from console.error_pages import refusal_text
from services.survey.sheet import MAX_BYTES
from tests.console.bare import console_client, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_an_address_that_names_nothing_is_the_chinese_404_page_not_json(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        sign_in(client)
        for path in ("/street/persons/new/survey", "/approval/applications/xyz"):
            page = client.get(path, headers=BROWSER)
            assert page.status_code == 404, (path, page.status_code)
            assert page.headers["content-type"].startswith("text/html")
            assert "<h1>页面不存在</h1>" in page.text
            for english in ("uuid_parsing", "Input should be", '"detail"'):
                assert english not in page.text
            assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_a_form_the_console_cannot_read_is_a_chinese_400_page(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        sign_in(client)
        page = client.get("/dashboards?year=abc", headers=BROWSER)
        assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
        assert "无法读取提交的内容" in page.text and "Input should be" not in page.text


def test_another_agencys_refusal_names_the_agencies_in_chinese_and_says_whom_to_ask() -> None:
    said = refusal_text("access.wrong_agency", "survey 的用户不能使用 settlement 服务")
    assert "survey" not in said and "settlement" not in said
    assert "街道" in said and "结算" in said and "区残联办的系统管理员" in said
    assert refusal_text("access.scope", "不能查看其他街道的人员") == "不能查看其他街道的人员"


def test_the_login_page_names_whom_to_ask_not_a_command(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        page = client.get("/login")
        assert "rehab users" not in page.text and "区残联办的系统管理员" in page.text


def test_the_too_large_page_gives_the_sheet_imports_own_limit(tmp_path: Path) -> None:
    limit = f"{MAX_BYTES // (1024 * 1024)} MB"
    with console_client(tmp_path) as client:
        sign_in(client)
        form = {"csrf_token": "x", "remarks": "x" * (1024 * 1024 + 1)}
        page = client.post("/street/persons/new", data=form, headers=BROWSER)
        assert page.status_code == 413 and limit in page.text and "16 MB" not in page.text
        upload = client.post(
            "/street/import",
            files={"file": ("big.csv", b"x" * (16 * 1024 * 1024 + 1), "text/csv")},
            headers=BROWSER,
        )
        assert upload.status_code == 413 and limit in upload.text and "16 MB" not in upload.text
