"""Changing one's password signs one out everywhere else (a stolen session ends with the old password),
and the current password cannot be chosen again."""

from __future__ import annotations

from pathlib import Path

from tests.console.bare import PASSWORD, console_client, csrf_of, sign_in

NEW = "Renhe-2025-second"


def change(client, current: str, new: str) -> object:
    form = {
        "csrf_token": csrf_of(client),
        "current_password": current,
        "new_password": new,
        "repeat_password": new,
        "next": "/password",
    }
    return client.post("/password", data=form)


def test_changing_the_password_ends_the_clerks_other_sessions_but_not_this_one(tmp_path: Path) -> None:
    with console_client(tmp_path) as here, console_client(tmp_path) as elsewhere:
        assert sign_in(here).status_code == 303  # type: ignore[attr-defined]
        assert sign_in(elsewhere).status_code == 303  # type: ignore[attr-defined]
        assert elsewhere.get("/password").status_code == 200

        assert change(here, PASSWORD, NEW).status_code == 303  # type: ignore[attr-defined]

        assert here.get("/password").status_code == 200
        ended = elsewhere.get("/password")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


def test_the_current_password_cannot_be_chosen_again(tmp_path: Path) -> None:
    with console_client(tmp_path) as client:
        sign_in(client)
        refused = change(client, PASSWORD, PASSWORD)
        assert refused.status_code == 422  # type: ignore[attr-defined]
        assert "新密码不能与当前密码相同" in refused.text  # type: ignore[attr-defined]
