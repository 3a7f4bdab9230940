"""The console's own store (ADR 0012): password hashes and login state, sessions, forms kept across a login.

SQLite ``<var-dir>/console.db`` by default. Business data is never here: it stays in the agencies'
services. Times are stored as UTC epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

credentials = Table(
    "console_credentials",
    metadata,
    Column("user", String(200), primary_key=True),
    Column("password_hash", String(300), nullable=False),
    Column("must_change", Boolean, nullable=False),
    Column("changed_at", Float, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("last_failed_at", Float, nullable=True),
    Column("locked_until", Float, nullable=True),
)

login_failures = Table(
    "console_login_failures",
    metadata,
    Column("user", String(200), primary_key=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("last_failed_at", Float, nullable=True),
    Column("locked_until", Float, nullable=True),
)
"""Wrong passwords given for names that have no password here: counted as for a real user, so a name's
back-off and lock-out answers never tell whether it exists; rows a day quiet are dropped."""

sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user", String(200), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("ended_at", Float, nullable=True),
)

kept_forms = Table(
    "console_kept_forms",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("path", String(500), nullable=False),
    Column("fields", Text, nullable=False),
    Column("kept_at", Float, nullable=False),
)


def create_console_engine(url: str) -> Engine:
    """The console store's engine with its tables; SQLite waits for a busy writer rather than failing."""
    engine = create_engine(url, connect_args={"timeout": 10} if url.startswith("sqlite") else {})
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA journal_mode=WAL")

    metadata.create_all(engine)
    return engine


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
