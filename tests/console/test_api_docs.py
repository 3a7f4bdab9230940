"""Every service's API documentation works on an intranet: /docs and /redoc load only local assets, and
stay open (they carry no data) when access control is on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings
from rehab.users import UserDirectory
from services.survey.app import create_app
from tests.console.conftest import Stack, screenshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(([^)]+)\)""")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    UserDirectory(tmp_path / "access").rotate_key()  # access control on: the docs must stay open
    settings = ServiceSettings(service="survey", var_dir=tmp_path, access_dir=tmp_path / "access")
    return TestClient(create_app(settings))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_name_no_external_url_and_their_assets_are_served(
    client: TestClient, page: str
) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    assert "https://" not in answer.text and "http://" not in answer.text
    for found in URL.findall(answer.text):
        asset = next(part for part in found if part)
        assert asset.startswith("/docs/assets/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["cache-control"].startswith("public")


def test_an_unknown_asset_is_not_found_and_the_api_still_needs_a_token(client: TestClient) -> None:
    assert client.get("/docs/assets/../../pyproject.toml").status_code != 200
    assert client.get("/docs/assets/secret.js").status_code == 404
    assert client.get("/persons").status_code == 401


def test_swagger_ui_renders_in_the_browser_without_leaving_this_machine(browser: Any, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    outside: list[str] = []  # what left (or tried to leave) this machine; a CSP refusal never does

    def local(url: str) -> bool:
        return url.startswith(("http://127.0.0.1:", "blob:http://127.0.0.1:", "data:"))

    context.on("requestfinished", lambda request: None if local(request.url) else outside.append(request.url))
    context.on(
        "requestfailed",
        lambda request: (
            None if local(request.url) or request.failure == "csp" else outside.append(request.url)
        ),
    )
    page = context.new_page()
    page.goto(stack.services.url("survey") + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Survey service" in page.locator(".swagger-ui .info .title").inner_text()
    screenshot(page, "10-api-docs")
    page.goto(stack.services.url("survey") + "/redoc")
    page.wait_for_selector("redoc h1, [role=navigation]", timeout=20_000)
    context.close()
    assert outside == []
