"""Forms kept across a login expiry hold no ID or phone number (the clerk types them again), and nothing
stays in console.db past KEEP_FORMS: expired ones go at the next login or read, a forgotten person's go
with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from console.sessions import KEEP_FORMS, Sessions
from console.store import create_console_engine, kept_forms

T0 = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
ID_NUMBER = "500112195804122318"
PATH = "/street/persons/new"


def sessions_in(tmp_path: Path) -> Sessions:
    engine = create_console_engine(f"sqlite:///{tmp_path / 'console.db'}")
    return Sessions(engine, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def stored(sessions: Sessions) -> list[str]:
    with sessions.engine.connect() as connection:
        return list(connection.execute(select(kept_forms.c.fields)).scalars())


def count(sessions: Sessions) -> int:
    with sessions.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(kept_forms)).scalar_one())


def test_id_and_phone_numbers_are_not_kept_with_the_form(tmp_path: Path) -> None:
    sessions = sessions_in(tmp_path)
    fields = [
        ("name", "王秀英"),
        ("id_number", ID_NUMBER),
        ("phone", "13800000000"),
        ("certificate_number", ID_NUMBER + "42"),
        ("guardian.id_number", "500112198001011234"),
        ("guardian.phone", "13900000000"),
        ("guardian.name", "王建国"),
    ]
    kept = sessions.keep_form("孙干事", PATH, fields, T0)
    [text] = stored(sessions)
    assert (
        ID_NUMBER not in text
        and "1380000" not in text
        and "1390000" not in text
        and "50011219800101" not in text
    )
    assert sessions.take_form(kept, "孙干事", PATH, T0) == [("name", "王秀英"), ("guardian.name", "王建国")]


def test_an_expired_kept_form_is_gone_at_the_next_login_or_read(tmp_path: Path) -> None:
    sessions = sessions_in(tmp_path)
    sessions.keep_form("孙干事", PATH, [("name", "王秀英")], T0)
    later = T0 + KEEP_FORMS + timedelta(seconds=1)
    sessions.start("李干事", later)
    assert count(sessions) == 0

    sessions.keep_form("孙干事", PATH, [("name", "王秀英")], T0)
    assert sessions.take_form("unknown", "李干事", PATH, later) is None
    assert count(sessions) == 0


def test_forgetting_a_person_drops_the_forms_kept_of_their_pages(tmp_path: Path) -> None:
    sessions = sessions_in(tmp_path)
    person_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    sessions.keep_form("孙干事", f"/street/persons/{person_id}/correct", [("name", "王秀英")], T0)
    sessions.keep_form("孙干事", PATH, [("name", "李明")], T0)
    sessions.forget_forms(person_id)
    assert [text for text in stored(sessions)] == ['[["name", "李明"]]']
