"""Console passwords and sessions without a browser: argon2 hashes, back-off and lock-out, idle sessions,
kept forms; `rehab users add --password-stdin` and `rehab users set-password` by an administrator."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.passwords import Credentials, LoginPolicy, LoginRefused
from console.sessions import Sessions
from console.store import create_console_engine
from rehab.cli import main

T0 = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def credentials(tmp_path: Path) -> Credentials:
    engine = create_console_engine(f"sqlite:///{tmp_path / 'console.db'}")
    policy = LoginPolicy(backoff=timedelta(seconds=1), lockout_failures=5, lockout=timedelta(minutes=15))
    store = Credentials(engine, policy)
    store.set_password("孙干事", "first-password-1", must_change=True, now=T0)
    return store


def refusal(credentials: Credentials, password: str, at: datetime, user: str = "孙干事") -> str:
    with pytest.raises(LoginRefused) as refused:
        credentials.check(user, password, at)
    return refused.value.message


def test_a_password_is_kept_as_an_argon2id_hash_and_a_wrong_one_is_refused(credentials: Credentials) -> None:
    with credentials.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT password_hash FROM console_credentials").scalar_one()
    assert stored.startswith("$argon2id$") and "first-password-1" not in stored
    credentials.check("孙干事", "first-password-1", T0)
    assert refusal(credentials, "wrong", T0) == "用户名或密码错误"
    assert refusal(credentials, "wrong", T0, user="无此人") == "用户名或密码错误"


def test_from_the_third_wrong_password_on_each_attempt_waits_longer_and_the_fifth_locks(
    credentials: Credentials,
) -> None:
    for second in range(3):
        refusal(credentials, "wrong", T0 + timedelta(seconds=second))
    assert "请 1 秒后再试" in refusal(credentials, "first-password-1", T0 + timedelta(seconds=2.5))
    refusal(credentials, "wrong", T0 + timedelta(seconds=3.1))  # the 4th
    assert "请 2 秒后再试" in refusal(credentials, "wrong", T0 + timedelta(seconds=3.5))
    assert "账户已锁定 15 分钟" in refusal(credentials, "wrong", T0 + timedelta(seconds=6))  # the 5th
    assert "账户已锁定至" in refusal(credentials, "first-password-1", T0 + timedelta(minutes=10))
    credentials.check("孙干事", "first-password-1", T0 + timedelta(minutes=16))  # the lock has passed


def test_a_new_password_must_differ_be_long_enough_and_clears_the_first_login_flag(
    credentials: Credentials,
) -> None:
    assert credentials.must_change("孙干事")
    with pytest.raises(LoginRefused, match="至少需要 10 个字符"):
        credentials.change("孙干事", "first-password-1", "short", T0)
    with pytest.raises(LoginRefused, match="不能与当前密码相同"):
        credentials.change("孙干事", "first-password-1", "first-password-1", T0)
    credentials.change("孙干事", "first-password-1", "Yuanyang-2025-new", T0)
    assert not credentials.must_change("孙干事")
    credentials.check("孙干事", "Yuanyang-2025-new", T0)


def test_a_session_ends_when_idle_and_keeps_a_form_only_for_its_own_user_once(tmp_path: Path) -> None:
    engine = create_console_engine(f"sqlite:///{tmp_path / 'console.db'}")
    sessions = Sessions(engine, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    cookie, session = sessions.start("孙干事", T0)
    assert sessions.find(cookie, T0 + timedelta(minutes=29)).active == session
    assert sessions.find(cookie, T0 + timedelta(minutes=58)).active == session  # touched at 29
    assert sessions.find(cookie, T0 + timedelta(minutes=89)).expired == session
    assert sessions.find("forged", T0) == sessions.find(None, T0)
    kept = sessions.keep_form("孙干事", "/street/persons/new", [("name", "王秀英")], T0)
    assert sessions.take_form(kept, "李干事", "/street/persons/new", T0) is None  # another user
    assert sessions.take_form(kept, "孙干事", "/street/persons/new", T0) == [("name", "王秀英")]
    assert sessions.take_form(kept, "孙干事", "/street/persons/new", T0) is None  # once
    other_cookie, other = sessions.start("李干事", T0)
    sessions.end(other, T0)
    assert sessions.find(other_cookie, T0).active is None


def rehab(*argv: str) -> int:
    return main(list(argv))


def test_an_administrator_gives_a_clerk_a_console_password_from_stdin_or_a_printed_one_time_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    where = ["--access-dir", str(tmp_path / "access"), "--console-var-dir", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("Initial-pass-2025\n"))
    add = ["users", "add", "孙干事", "--agency", "survey", "--role", "staff", "--scope", "street:鸳鸯"]
    assert rehab(*add, "--password-stdin", *where) == 0
    store = Credentials(create_console_engine(f"sqlite:///{tmp_path / 'console.db'}"))
    store.check("孙干事", "Initial-pass-2025", T0)
    assert store.must_change("孙干事")
    capsys.readouterr()
    assert rehab("users", "set-password", "孙干事", *where) == 0
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed.startswith("孙干事 的一次性工作台密码（one-time password）：")
    store.check("孙干事", printed.rsplit("：", 1)[1], T0)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert rehab("users", "set-password", "孙干事", "--password-stdin", *where) == 1
    assert rehab("users", "set-password", "无此人", *where) == 1
