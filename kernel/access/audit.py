"""The audit log 查阅记录: who read which person's personal data, when and why, in the service's store."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, insert, select

__all__ = ["PURPOSE_NOT_STATED", "AuditEntry", "AuditTrail", "control_characters", "printable"]

PURPOSE_NOT_STATED = "未说明"

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Control characters (C0, DEL, C1), format characters (bidi overrides, zero-width), line and
paragraph separators: what can break a row of a terminal table or make it lie."""


def control_characters(text: str) -> list[str]:
    """The characters of ``text`` that :func:`printable` would escape, as code points (``U+000A``)."""
    return [f"U+{ord(char):04X}" for char in text if unicodedata.category(char) in _UNPRINTABLE]


def printable(text: str) -> str:
    """``text`` safe for one cell of an operator's table (``rehab audit``, ``rehab dlq list``,
    ``rehab verify``): every control or format character escaped (``\\n``, ``\\x1b``, ``\\u202e``), so
    a value can neither start a forged row nor reorder what the terminal shows (issue 14)."""
    if not any(unicodedata.category(char) in _UNPRINTABLE for char in text):
        return text
    return "".join(_escaped(char) if unicodedata.category(char) in _UNPRINTABLE else char for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_metadata = MetaData()
audit_log = Table(
    "audit_log",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("read_at", DateTime(timezone=True), nullable=False, index=True),
    Column("user", String(100), nullable=False, index=True),
    Column("agency", String(20), nullable=False),
    Column("roles", String(100), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("action", String(300), nullable=False),
    Column("subject", String(100), nullable=False, index=True),
    Column("purpose", String(200), nullable=False),
    Column("status", Integer, nullable=False),
)


@dataclass(frozen=True)
class AuditEntry:
    """One read of personal data: who (user, agency, roles, scope), what (action, subject), when, why."""

    read_at: datetime
    user: str
    agency: str
    roles: str
    scope: str
    action: str
    subject: str
    purpose: str
    status: int


class AuditTrail:
    """Append-only audit log in one service's database; nothing here updates or deletes a row."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _metadata.create_all(engine)

    def record(self, entry: AuditEntry) -> None:
        self.record_all([entry])

    def record_all(self, entries: Sequence[AuditEntry]) -> None:
        """Several entries in one transaction (a batch read of many persons' data)."""
        if entries:
            with self.engine.begin() as connection:
                connection.execute(insert(audit_log), [entry.__dict__ for entry in entries])

    def entries(
        self,
        *,
        user: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id).limit(limit)
        if user is not None:
            query = query.where(audit_log.c.user == user)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if since is not None:
            query = query.where(audit_log.c.read_at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [AuditEntry(**{key: value for key, value in row.items() if key != "id"}) for row in rows]
