"""Signed-in sessions 登录会话 (cookie, CSRF token, idle timeout) and forms kept across a new login."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from console.store import epoch, kept_forms, sessions

__all__ = ["Session", "SessionLookup", "Sessions"]

KEEP_FORMS = timedelta(minutes=30)
FormFields = list[tuple[str, str]]
NOT_KEPT = ("id_number", "phone", "certificate_number")
"""Fields never kept across a login (the clerk types them again), by the end of their name
(``guardian.phone`` too): ID numbers, the certificate numbers made from them, phone numbers. The rest of a
kept form stays in console.db for KEEP_FORMS at most."""
NOT_KEPT_NAMES = frozenset({"confirmation", "q"})
"""The ID number retyped to confirm a deletion, and a search (by name or ID number)."""


def keeps(name: str) -> bool:
    """Whether a form field is kept across a login."""
    return name not in NOT_KEPT_NAMES and not name.endswith(NOT_KEPT)


@dataclass(frozen=True)
class Session:
    id_hash: str
    user: str
    csrf: str


@dataclass(frozen=True)
class SessionLookup:
    """The cookie's session: ``active``, or ``expired`` (idle or too old), or neither (no such session)."""

    active: Session | None = None
    expired: Session | None = None


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class Sessions:
    """Sessions are stored by the SHA-256 of their cookie, so the store alone cannot sign anyone in."""

    def __init__(self, engine: Engine, *, idle: timedelta, lifetime: timedelta) -> None:
        self.engine = engine
        self.idle = idle
        self.lifetime = lifetime

    def start(self, user: str, now: datetime) -> tuple[str, Session]:
        cookie = secrets.token_urlsafe(32)
        session = Session(_hash(cookie), user, secrets.token_urlsafe(32))
        with self.engine.begin() as connection:
            _purge_kept(connection, now)
            connection.execute(
                insert(sessions).values(
                    id_hash=session.id_hash,
                    user=user,
                    csrf=session.csrf,
                    started_at=epoch(now),
                    seen_at=epoch(now),
                    ended_at=None,
                )
            )
        return cookie, session

    def find(self, cookie: str | None, now: datetime) -> SessionLookup:
        """The session of a cookie; an active one is touched (its idle time starts again)."""
        if not cookie:
            return SessionLookup()
        id_hash = _hash(cookie)
        with self.engine.begin() as connection:
            row = connection.execute(select(sessions).where(sessions.c.id_hash == id_hash)).first()
            if row is None:
                return SessionLookup()
            session = Session(row.id_hash, row.user, row.csrf)
            if row.ended_at is not None:
                return SessionLookup()  # logged out: nothing to resume
            stale = epoch(now) - row.seen_at > self.idle.total_seconds()
            if stale or epoch(now) - row.started_at > self.lifetime.total_seconds():
                return SessionLookup(expired=session)
            connection.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(seen_at=epoch(now))
            )
        return SessionLookup(active=session)

    def end(self, session: Session, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(sessions).where(sessions.c.id_hash == session.id_hash).values(ended_at=epoch(now))
            )

    def end_all(self, user: str, now: datetime, *, keep: Session | None = None) -> None:
        """Sign the user out everywhere (after a password change elsewhere, say); ``keep``: but in the
        session that changed it."""
        ended = (sessions.c.user == user) & sessions.c.ended_at.is_(None)
        if keep is not None:
            ended &= sessions.c.id_hash != keep.id_hash
        with self.engine.begin() as connection:
            connection.execute(update(sessions).where(ended).values(ended_at=epoch(now)))

    def keep_form(self, user: str, path: str, fields: FormFields, now: datetime) -> str:
        """Keep a form a clerk sent after their session expired; returns the id to resume it with."""
        kept_id = secrets.token_urlsafe(16)
        with self.engine.begin() as connection:
            _purge_kept(connection, now)
            connection.execute(
                insert(kept_forms).values(
                    id=kept_id,
                    user=user,
                    path=path,
                    fields=json.dumps([(n, v) for n, v in fields if keeps(n)], ensure_ascii=False),
                    kept_at=epoch(now),
                )
            )
        return kept_id

    def take_form(self, kept_id: str, user: str, path: str, now: datetime) -> FormFields | None:
        """The kept fields, once, for the same user and form; None when unknown, too old or another's."""
        with self.engine.begin() as connection:
            _purge_kept(connection, now)
            row = connection.execute(select(kept_forms).where(kept_forms.c.id == kept_id)).first()
            if row is None or row.user != user or row.path != path:
                return None
            connection.execute(delete(kept_forms).where(kept_forms.c.id == kept_id))
        if epoch(now) - row.kept_at > KEEP_FORMS.total_seconds():
            return None
        return [(str(name), str(value)) for name, value in json.loads(row.fields)]

    def forget_forms(self, person_id: str) -> None:
        """Drop every kept form of a person's pages (the person is being forgotten)."""
        with self.engine.begin() as connection:
            connection.execute(delete(kept_forms).where(kept_forms.c.path.contains(person_id)))


def _purge_kept(connection: Connection, now: datetime) -> None:
    """Forms kept longer than KEEP_FORMS are gone: nobody can resume them any more."""
    connection.execute(delete(kept_forms).where(kept_forms.c.kept_at < epoch(now - KEEP_FORMS)))
