"""Passwords 登录密码: argon2id hashes, the rules of a new password, back-off and lock-out after failures."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Row, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from console.store import credentials, epoch, login_failures, moment
from kernel.domain.clock import CHINA_STANDARD_TIME

__all__ = ["Credentials", "LoginPolicy", "LoginRefused", "generate_password", "password_problem"]

MIN_LENGTH = 10
FREE_FAILURES = 3
"""Wrong passwords in a row before each further attempt must wait (1, 2, 4 … times the back-off)."""
WRONG = "用户名或密码错误"
QUIET = timedelta(days=1)
"""A name without a password whose failures are older than this (and not locked) is forgotten."""


class LoginRefused(Exception):
    """The sign-in is refused; the message is for the clerk (it never says whether the name exists)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LoginPolicy:
    backoff: timedelta = timedelta(seconds=1)
    lockout_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


def password_problem(user: str, password: str) -> str | None:
    """Why a new password is not acceptable, in Chinese; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if user and user in password:
        return "密码不能包含用户名"
    if len(set(password)) < 4:
        return "密码过于简单：请混合使用不同的字符"
    return None


def generate_password() -> str:
    """A one-time password to hand to a new user (they must change it at first login)."""
    return secrets.token_urlsafe(12)


class Credentials:
    """Users' password hashes and failed-login state in the console store."""

    def __init__(self, engine: Engine, policy: LoginPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy or LoginPolicy()
        self.hasher = PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    def set_password(self, user: str, password: str, *, must_change: bool, now: datetime) -> None:
        """Set (or reset) a password; clears failures and any lock."""
        values = {
            "password_hash": self.hasher.hash(password),
            "must_change": must_change,
            "changed_at": epoch(now),
            "failed_logins": 0,
            "last_failed_at": None,
            "locked_until": None,
        }
        with self.engine.begin() as connection:
            changed = connection.execute(update(credentials).where(credentials.c.user == user).values(values))
            if changed.rowcount == 0:
                connection.execute(insert(credentials).values(user=user, **values))
            connection.execute(delete(login_failures).where(login_failures.c.user == user))

    def must_change(self, user: str) -> bool:
        row = self._row(user)
        return row is None or bool(row.must_change)

    def check(self, user: str, password: str, now: datetime) -> None:
        """Accept the password or raise LoginRefused; wrong ones count towards back-off and lock-out.

        Each attempt is counted as a failure before the password is verified (and the count cleared when
        it is right), so concurrent wrong passwords cannot all pass the back-off while the first is being
        verified. A name without a password gets the same answers, counted in ``login_failures``.
        """
        row = self._row(user)
        table = credentials if row is not None else login_failures
        reserved = self._reserve(table, user, now)
        if row is None:
            self._verify(self._dummy_hash, password)  # the same work as for a known name
            self._failed(table, user, reserved, now)
        assert row is not None
        if not self._verify(row.password_hash, password):
            self._failed(table, user, reserved, now)
        with self.engine.begin() as connection:
            values: dict[str, object] = {"failed_logins": 0, "last_failed_at": None, "locked_until": None}
            if self.hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = self.hasher.hash(password)
            connection.execute(update(credentials).where(credentials.c.user == user).values(values))

    def change(self, user: str, current: str, new: str, now: datetime) -> None:
        """The user's own change (at first login or later): the current password must be right."""
        self.check(user, current, now)
        if current == new:
            raise LoginRefused("新密码不能与当前密码相同")
        if problem := password_problem(user, new):
            raise LoginRefused(problem)
        self.set_password(user, new, must_change=False, now=now)

    def _reserve(self, table: Table, user: str, now: datetime) -> int:
        """Count this attempt as a failure unless the name must wait; returns its number in the run.

        Compare-and-set on the row as read: when a concurrent attempt counted first, read it again (and
        wait the back-off that attempt now imposes)."""
        while True:
            row = self._failures(table, user, now)
            self._refuse_if_waiting(row, now)
            column = table.c
            with self.engine.begin() as connection:
                counted = connection.execute(
                    update(table)
                    .where(
                        column.user == user,
                        column.failed_logins == row.failed_logins,
                        column.last_failed_at.is_not_distinct_from(row.last_failed_at),
                        column.locked_until.is_not_distinct_from(row.locked_until),
                    )
                    .values(failed_logins=row.failed_logins + 1, last_failed_at=epoch(now))
                )
            if counted.rowcount == 1:
                return int(row.failed_logins) + 1

    def _failures(self, table: Table, user: str, now: datetime) -> Row[Any]:
        """The name's failure state; a name without a password gets a row (and stale ones are dropped)."""
        row = self._read(table, user)
        if row is not None:
            return row
        assert table is login_failures  # a user with a password has a credentials row
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    delete(login_failures).where(
                        login_failures.c.last_failed_at < epoch(now - QUIET),
                        func.coalesce(login_failures.c.locked_until, 0) < epoch(now),
                    )
                )
                connection.execute(insert(login_failures).values(user=user, failed_logins=0))
        except IntegrityError:
            pass  # a concurrent attempt with the same name added it
        found = self._read(table, user)
        assert found is not None
        return found

    def _read(self, table: Table, user: str) -> Row[Any] | None:
        with self.engine.connect() as connection:
            return connection.execute(select(table).where(table.c.user == user)).first()

    def _refuse_if_waiting(self, row: Row[Any], now: datetime) -> None:
        if row.locked_until is not None and epoch(now) < row.locked_until:
            until = moment(row.locked_until).astimezone(CHINA_STANDARD_TIME).strftime("%H:%M")
            raise LoginRefused(f"连续输错密码次数过多，账户已锁定至 {until}；请稍后再试，或请管理员重设密码")
        failures = row.failed_logins
        if failures >= FREE_FAILURES and row.last_failed_at is not None:
            wait = self.policy.backoff.total_seconds() * 2 ** (failures - FREE_FAILURES)
            left = row.last_failed_at + wait - epoch(now)
            if left > 0:
                raise LoginRefused(f"尝试过于频繁，请 {max(1, round(left))} 秒后再试")

    def _failed(self, table: Table, user: str, failures: int, now: datetime) -> NoReturn:
        """The attempt (counted already) was wrong: lock the name once it reaches the lock-out."""
        if failures >= self.policy.lockout_failures:
            with self.engine.begin() as connection:
                connection.execute(
                    update(table)
                    .where(table.c.user == user)
                    .values(failed_logins=0, locked_until=epoch(now + self.policy.lockout))
                )
            minutes = round(self.policy.lockout.total_seconds() / 60)
            raise LoginRefused(f"连续输错密码 {failures} 次，账户已锁定 {minutes} 分钟")
        raise LoginRefused(WRONG)  # the same words as for an unknown name

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _row(self, user: str) -> Row[Any] | None:
        return self._read(credentials, user)
