"""The console app alone (no agency services, no browser): its own store and user directory, for the pages
that need nothing else (login, password, the session checks before a form is read)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from console.app import create_console_app
from console.settings import ConsoleSettings
from kernel.access.auth import Agency, Role, Scope
from rehab.users import User, UserDirectory

PASSWORD = "Yuanyang-2025-first"
CLERK = "孙干事"


def console_client(var_dir: Path, **settings: object) -> TestClient:
    """A client of a console whose clerk 孙干事 (a street's survey handler) has PASSWORD set."""
    directory = UserDirectory(var_dir / "access")
    directory.rotate_key()
    directory.add(User(CLERK, Agency("survey"), frozenset({Role("handler")}), Scope.parse("street:鸳鸯")))
    app = create_console_app(ConsoleSettings(var_dir=var_dir, **settings))  # type: ignore[arg-type]
    app.state.console.credentials.set_password(CLERK, PASSWORD, must_change=False, now=datetime.now(UTC))
    return TestClient(app, follow_redirects=False)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD, **query: str) -> object:
    page = client.get("/login", params=query)
    token = hidden(page.text, "login_token")
    form = {"username": CLERK, "password": password, "login_token": token, **query}
    return client.post("/login", data=form)


def csrf_of(client: TestClient, path: str = "/password") -> str:
    page = client.get(path)
    assert page.status_code == 200, (page.status_code, page.headers.get("location"))
    return hidden(page.text, "csrf_token")
