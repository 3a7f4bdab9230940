"""The console reads no form before it knows the session: a POST without one is sent to the login page
with its body unparsed; and it refuses bodies over the kernel's limits (1 MiB a form) unread."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from tests.console.bare import console_client, sign_in


def test_a_form_posted_without_a_session_is_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console_client(tmp_path) as client:

        def refuse(*_args: object, **_kwargs: object) -> object:
            raise AssertionError("the form was parsed before the session was checked")

        monkeypatch.setattr(Request, "form", refuse)
        files = {"file": ("鸳鸯.xlsx", b"x" * 100_000, "application/octet-stream")}
        answer = client.post("/street/import", data={"street": "鸳鸯"}, files=files)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_form_over_a_mebibyte_is_refused_with_413(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        sign_in(client)
        answer = client.post("/logout", data={"csrf_token": "x", "padding": "x" * (1024 * 1024 + 1)})
        assert answer.status_code == 413
        small = client.post("/login", data={"username": "孙干事", "password": "x", "login_token": "x"})
        assert small.status_code != 413
