"""`rehab up` adds the demo clerks at every start, but never resets a console password that exists: one a
clerk chose (or an administrator set) survives the next start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from console.demo import demo_logins
from console.passwords import Credentials
from console.store import create_console_engine
from rehab.users import UserDirectory

OWN = "Chosen-by-the-clerk-2025"


def test_a_second_start_keeps_the_password_a_demo_clerk_chose(tmp_path: Path) -> None:
    directory = UserDirectory(tmp_path / "access")
    directory.rotate_key()
    store_url = f"sqlite:///{tmp_path / 'console.db'}"
    first = demo_logins(directory, store_url)
    assert first and all(login.password for login in first)
    clerk = first[0]
    credentials = Credentials(create_console_engine(store_url))
    credentials.set_password(clerk.name, OWN, must_change=False, now=datetime.now(UTC))

    again = demo_logins(directory, store_url)

    assert [login.name for login in again] == [login.name for login in first]
    assert all(login.password is None for login in again)
    credentials.check(clerk.name, OWN, datetime.now(UTC))  # still the clerk's own
