"""The console reads no form before it knows the session: a POST without one is sent to the login page
with its body unparsed."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request

from tests.console.bare import console_client


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
