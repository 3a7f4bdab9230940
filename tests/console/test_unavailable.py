"""When the street office's service does not answer, the console says so and a form keeps what was typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.app import create_console_app
from console.settings import ConsoleSettings
from kernel.access.auth import Role, Scope
from rehab.local_redis import free_port
from rehab.users import User, UserDirectory, set_console_password

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*? value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


@pytest.fixture
def console(tmp_path: Path) -> TestClient:
    directory = UserDirectory(tmp_path / "access")
    directory.add(User("孙干事", "survey", frozenset({Role.STAFF}), Scope("street", "鸳鸯")))
    store = f"sqlite:///{tmp_path / 'console.db'}"
    set_console_password(directory, store, "孙干事", "Liangjiang-2025", must_change=False)
    settings = ConsoleSettings(
        var_dir=tmp_path, access_dir=directory.folder, survey_url=f"http://127.0.0.1:{free_port()}"
    )
    client = TestClient(create_console_app(settings))
    login = client.get("/login").text
    signed_in = client.post(
        "/login",
        data={
            "username": "孙干事",
            "password": "Liangjiang-2025",
            "login_token": hidden(login, "login_token"),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    return client


def test_a_page_says_which_system_cannot_be_reached(console: TestClient) -> None:
    page = console.get("/street")
    assert page.status_code == 503
    assert "街道康复需求调查系统暂时无法访问" in page.text


def test_a_form_sent_while_the_service_is_down_comes_back_as_typed(console: TestClient) -> None:
    form = console.get("/street/persons/new").text
    typed = {
        "csrf_token": hidden(form, "csrf_token"),
        "form_key": hidden(form, "form_key"),
        "street": "鸳鸯",
        "community": "鸳鸯第一社区",
        "name": "王秀英",
        "address": f"鸳鸯街道 {datetime.now(UTC):%H%M} 号",
    }
    answer = console.post("/street/persons/new", data=typed)
    assert answer.status_code == 503
    assert "暂时无法访问" in answer.text and "不会重复记录" in answer.text
    for field in ("community", "name", "address", "form_key"):
        assert hidden(answer.text, field) == typed[field]


def test_an_address_the_console_does_not_serve_is_a_page_in_chinese_not_json(console: TestClient) -> None:
    missing = console.get("/settlement/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "页面不存在" in missing.text and "Not Found" not in missing.text
    wrong_method = console.get("/logout")
    assert wrong_method.status_code == 405 and "无法这样打开" in wrong_method.text
