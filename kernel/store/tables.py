"""The tables every service's store has: events, outbox, inbox and idempotency keys, and their rows.

Their schema in a database is made by the migrations (``migrations/versions/kernel``, ADR 0018); a change
here comes with a migration, and tests/kernel/test_migrations.py fails until they agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rehab_contracts import EventEnvelope
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Dialect,
    Index,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = MetaData()

Position = BigInteger().with_variant(Integer(), "sqlite")

events_table = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(100), nullable=False, index=True),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("producer", String(50), nullable=False),
    Column("correlation_id", String(36), nullable=False, index=True),
    Column("causation_id", String(36)),
    Column("signature", Text),
    Column("payload", Text, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    sqlite_autoincrement=True,
)

outbox_table = Table(
    "outbox",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("published_at", DateTime(timezone=True), index=True),
    Column("stream_entry_id", String(40)),
)

inbox_table = Table(
    "inbox",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("source_stream", String(100), nullable=False),
    Column("event_type", String(100), nullable=False, index=True),
    Column("stream_id", String(200), nullable=False, index=True),
    Column(
        "version",
        Integer,
        comment="The envelope's version; NULL only in rows written before the column (read the envelope).",
    ),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
    Column("envelope", Text, nullable=False),
    Index("ix_inbox_aggregate_version", "source_stream", "stream_id", "version"),
    sqlite_autoincrement=True,
)

idempotency_keys_table = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("request_id", String(36), nullable=False),
    Column("event_ids", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("response_status", Integer),
    Column("response_headers", Text),
    Column("response_body", LargeBinary),
)


def event_row(envelope: EventEnvelope) -> dict[str, Any]:
    """The `events` row of an envelope."""
    return {
        "event_id": str(envelope.event_id),
        "stream_id": envelope.stream_id,
        "version": envelope.version,
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "producer": envelope.producer,
        "correlation_id": str(envelope.correlation_id),
        "causation_id": str(envelope.causation_id) if envelope.causation_id else None,
        "signature": envelope.signature,
        "payload": json.dumps(envelope.payload, ensure_ascii=False, sort_keys=True),
    }


def inbox_row(envelope: EventEnvelope, source_stream: str, received_at: datetime) -> dict[str, Any]:
    """The `inbox` row of a consumed envelope (its text is pydantic's JSON of the envelope)."""
    return {
        "event_id": str(envelope.event_id),
        "source_stream": source_stream,
        "event_type": envelope.event_type,
        "stream_id": envelope.stream_id,
        "version": envelope.version,
        "occurred_at": envelope.occurred_at.astimezone(UTC),
        "received_at": received_at,
        "envelope": envelope.model_dump_json(),
    }


def record_all_received(connection: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert many `inbox` rows in one statement, ``INSERT … ON CONFLICT (event_id) DO NOTHING RETURNING
    event_id``; returns the event ids inserted (one the inbox held already is left out, as
    ``UnitOfWork.record_received`` answers False for it)."""
    if not rows:
        return set()
    statement = _insert_received(connection.dialect.name)
    return {str(event_id) for event_id in connection.execute(statement, rows).scalars()}


@cache
def _insert_received(dialect: str) -> Insert:
    returned = inbox_table.c.event_id
    if dialect == "postgresql":
        return (
            postgresql_insert(inbox_table)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(returned)
        )
    if dialect == "sqlite":
        return (
            sqlite_insert(inbox_table).on_conflict_do_nothing(index_elements=["event_id"]).returning(returned)
        )
    return insert(inbox_table).returning(returned)  # no ON CONFLICT: a duplicate raises, the batch rolls back


def envelope_of(row: Any) -> EventEnvelope:
    """The envelope an `events` row holds."""
    return EventEnvelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        occurred_at=aware(row["occurred_at"]),
        recorded_at=aware(row["recorded_at"]),
        producer=row["producer"],
        stream_id=row["stream_id"],
        version=row["version"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        signature=row["signature"],
        payload=json.loads(row["payload"]),
    )


def driver_conversion(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """SQLAlchemy's own conversion of a column's values for the dialect's driver (None: sent as they are),
    for the few statements sent to the driver directly (``exec_driver_sql``) on a hot path."""
    converted: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return converted


def aware(moment: datetime) -> datetime:
    # SQLite drops the offset; every time this store writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StoredEvent:
    """An event as the store keeps it: its envelope and global position."""

    position: int
    envelope: EventEnvelope


def stored_event(row: Any) -> StoredEvent:
    return StoredEvent(position=row["position"], envelope=envelope_of(row))
