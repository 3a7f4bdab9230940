"""Append-only event store on SQLAlchemy 2: events, their outbox, and the inbox of consumed events.

One database per service. Four tables:

* ``events``   — what this service decided; unique ``(stream_id, version)`` for optimistic
  concurrency, unique ``event_id``, and ``position`` as the global order.
* ``outbox``   — one row per stored event, written in the same transaction; the relay marks a
  row published only after XADD succeeded and always picks the lowest unpublished positions,
  so an event whose transaction committed late is never skipped.
* ``inbox``    — every event this service consumed, written in the same transaction as the
  effect; a redelivered event finds its ``event_id`` here and is a no-op. The inbox keeps the
  whole envelope, so it is also the service's archive of what it received (settlement replays it).
* ``idempotency_keys`` — the ``Idempotency-Key`` of a command, written in the same transaction as
  its events and the answer the command gave (a unit of work opened with ``keyed=``; see
  ``kernel.web.idempotency`` and ``kernel.http.Command``).

The tables are in ``tables.py``; the outbox queries in ``outbox.py`` and the kept answers in
``kept_answers.py`` are parts of ``EventStore``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from rehab_contracts import EventEnvelope, EventPayload
from sqlalchemy import (
    CursorResult,
    Engine,
    MetaData,
    Result,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.domain.ids import new_event_id
from kernel.domain.rejections import CommandRejected
from kernel.faults import fault_point
from kernel.store.kept_answers import KeptAnswers, keep_response, key_row
from kernel.store.keyed import IdempotencyKeyInUse, IdempotentRequest, StoredResponse
from kernel.store.locks import scope_key
from kernel.store.once import insert_once
from kernel.store.outbox import Outbox
from kernel.store.schema import branches_of, pending, upgrade
from kernel.store.sqlite import (
    READ_ONLY,
    SYNCHRONOUS,
    StoreBusy,
    busy_means_retry,
    busy_timeout_seconds,
    create_store_engine,
    writer_of,
)
from kernel.store.tables import (
    Position,
    StoredEvent,
    event_row,
    events_table,
    idempotency_keys_table,
    inbox_row,
    inbox_table,
    metadata,
    outbox_table,
    stored_event,
)

__all__ = [
    "READ_ONLY",
    "ConcurrencyConflict",
    "EventStore",
    "NewEvent",
    "NotRecorded",
    "Position",
    "StoreBusy",
    "StoreUnavailable",
    "StoredEvent",
    "UnitOfWork",
    "busy_timeout_seconds",
    "create_store_engine",
    "events_table",
    "idempotency_keys_table",
    "inbox_table",
    "metadata",
    "outbox_table",
    "scope_key",
]

log = logging.getLogger(__name__)

_INSERT_EVENT = insert(events_table)
_INSERT_OUTBOX = insert(outbox_table)


class ConcurrencyConflict(Exception):
    """Another command appended to the same aggregate first."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"{stream_id} changed while this command was decided (expected version {expected_version})"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


class NotRecorded(CommandRejected):
    """A keyed command's commit failed: neither its events nor its key nor its answer are recorded.

    HTTP 503: the client sends the command again with its Idempotency-Key, and it runs anew.
    """

    status_code = 503

    def __init__(self) -> None:
        super().__init__("命令未能保存（事务未提交），请重新提交", code="store.not_recorded")


UNREACHABLE_REASON = (
    "数据库暂时无法连接，本次请求未完成；请稍后重新提交（命令带同一 Idempotency-Key 重试不会重复记录）"
)


class StoreUnavailable(CommandRejected):
    """The service's database cannot be reached (down, restarting, the network) or written (a standby,
    read-only: ``reason`` says so): HTTP 503.

    A command meanwhile may not have been recorded; the client sends it again with its Idempotency-Key,
    which makes the retry of one that was recorded after all answer as the first time.
    """

    status_code = 503

    def __init__(self, reason: str = UNREACHABLE_REASON) -> None:
        super().__init__(reason, code="store.unavailable")


@dataclass(frozen=True)
class NewEvent:
    """An event a command decided, before the store gives it an envelope."""

    payload: EventPayload
    occurred_at: datetime
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class EventStore(Outbox, KeptAnswers):
    """The event store of one producing service (agency): its events, outbox (``Outbox``), inbox and
    kept answers of keyed commands (``KeptAnswers``)."""

    def __init__(self, engine: Engine, producer: str) -> None:
        self.engine = engine
        self.producer = producer
        self.read_engine = engine.execution_options(**{READ_ONLY: True})
        self._writer = writer_of(engine)
        self._unit_engine = engine
        """Units' engine; on a SQLite file their commits are flushed in groups (ADR 0024)."""
        if self._writer is not None and self._writer.log_file is not None:
            self._unit_engine = engine.execution_options(**{SYNCHRONOUS: "NORMAL"})

    def create_schema(self, extra: MetaData | None = None, *, service: str | None = None) -> None:
        """Migrate the store to the code's schema, under the schema lock (``kernel.store.schema``).

        ``service``: whose store it is; its own tables are migrated with the kernel's when it has
        migrations. ``extra``: the tables the code declares besides the kernel's; those the migrations
        did not make (a test's, a tool's) are created if missing, under the same lock.
        """
        upgrade(self.engine, branches_of(service), declared=extra)

    def schema_pending(self, service: str | None = None) -> list[str]:
        """The migrations the code expects that the store lacks (empty: its schema is current)."""
        return pending(self.read_engine, branches_of(service))  # never waits for a writer

    def read_only(self) -> bool:
        """True when the database accepts no writes: a PostgreSQL hot standby (the URL on a server a
        failover demoted) or one set ``default_transaction_read_only``. Every command and consumed event
        fails then (503 ``store.unavailable``, the consumer waits: ``kernel.store.unavailable``)."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.read_engine.connect() as connection:
            asked = "SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only') = 'on'"
            return bool(connection.execute(text(asked)).scalar())

    @contextmanager
    def transaction(self, keyed: IdempotentRequest | None = None) -> Iterator[UnitOfWork]:
        """One atomic unit: commits when the ``with`` block ends, rolls back on any exception.

        ``keyed``: the keyed command this unit belongs to. Its key is recorded with the unit's events,
        and the answer the unit keeps (``UnitOfWork.keep_answer``) is committed with them, so no crash
        can separate a command's events from its answer.

        On a SQLite file the unit commits without waiting for the disk and then waits, the write lock
        handed on, for a flush of the log that covers its commit, shared with the units that committed
        meanwhile (group commit, ADR 0024): the ``with`` block ends once the unit is on disk, as before.
        """
        session = Session(self._unit_engine)
        try:
            with busy_means_retry():
                session.begin()
                unit = UnitOfWork(session, self.producer, keyed)
                yield unit
                _commit(unit)
        except BaseException:
            session.rollback()  # explicit, so after_rollback listeners (settlement's live book) hear it
            raise
        finally:
            session.close()
        if self._writer is not None:
            self._writer.flush()

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A transaction for queries: it never takes SQLite's write lock, so it never waits for a writer."""
        with Session(self.read_engine) as session, session.begin():
            yield UnitOfWork(session, self.producer)

    def read(self, after_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """This service's events in global order, after a position."""
        with self.reading() as unit:
            return unit.read(after_position, limit)

    def counts(self) -> dict[str, int]:
        """Events stored, published, pending publication, and received."""
        with Session(self.read_engine) as session:
            stored = session.scalar(select(func.count()).select_from(events_table)) or 0
            pending = (
                session.scalar(
                    select(func.count())
                    .select_from(outbox_table)
                    .where(outbox_table.c.published_at.is_(None))
                )
                or 0
            )
            received = session.scalar(select(func.count()).select_from(inbox_table)) or 0
        return {"stored": stored, "published": stored - pending, "unpublished": pending, "received": received}


class UnitOfWork:
    """What a command or an event handler may do inside one transaction."""

    def __init__(self, session: Session, producer: str, keyed: IdempotentRequest | None = None) -> None:
        self.session = session
        self.producer = producer
        self.keyed = keyed
        """The keyed command this unit belongs to: its key is recorded with the events appended."""
        self.appended = False
        """Whether this unit recorded events (a command's transaction, not a query's or a consumer's)."""
        self.answer: StoredResponse | None = None
        """The answer kept for the command's key when the unit commits (``keep_answer``)."""

    def keep_answer(self, answer: StoredResponse) -> None:
        """Keep the command's successful answer for its key, committed with this unit (keyed units only)."""
        if self.keyed is not None:
            self.answer = answer

    def lock(self, scope: str) -> None:
        """Wait for, then hold until commit or rollback, the lock on ``scope`` (ADR 0010).

        A rule that reads other aggregates locks its scope first. On PostgreSQL: an advisory lock on a
        stable 64-bit hash of the scope. SQLite needs none: its write transactions begin IMMEDIATE.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return
        self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": scope_key(scope)})

    # -- own events -------------------------------------------------------------------------
    def load(self, stream_id: str) -> list[EventEnvelope]:
        """Every event of one aggregate, in version order."""
        query = (
            select(events_table).where(events_table.c.stream_id == stream_id).order_by(events_table.c.version)
        )
        return [stored_event(row).envelope for row in self.session.execute(query).mappings()]

    def read(self, after_position: int = 0, limit: int | None = None) -> list[StoredEvent]:
        query = (
            select(events_table)
            .where(events_table.c.position > after_position)
            .order_by(events_table.c.position)
        )
        if limit is not None:
            query = query.limit(limit)
        return [stored_event(row) for row in self.session.execute(query).mappings()]

    def streams_correlated_with(self, correlation_id: str, event_type: str) -> list[str]:
        """Streams of this service whose ``event_type`` events carry ``correlation_id`` (the case they
        belong to, e.g. a person), in the order those events were recorded."""
        query = (
            select(events_table.c.stream_id)
            .where(events_table.c.correlation_id == correlation_id, events_table.c.event_type == event_type)
            .order_by(events_table.c.position)
        )
        return list(dict.fromkeys(self.session.scalars(query)))

    def events_of_type(self, *event_types: str) -> list[EventEnvelope]:
        """This service's own events of the given types, in global order."""
        query = (
            select(events_table)
            .where(events_table.c.event_type.in_(event_types))
            .order_by(events_table.c.position)
        )
        return [stored_event(row).envelope for row in self.session.execute(query).mappings()]

    def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[EventEnvelope]:
        """Append after ``expected_version``; raises ConcurrencyConflict if someone was first.

        No savepoint (as ``kernel.store.bulk.append_streams``): after a conflict the unit is rolled back as
        a whole (a command's unit, a consumer's batch or event), so its partial inserts never commit.
        """
        recorded_at = _now()
        envelopes = [
            _envelope(self.producer, stream_id, expected_version + offset, new, recorded_at)
            for offset, new in enumerate(events, start=1)
        ]
        if self.keyed is not None:
            self._remember_key(self.keyed, envelopes)
        connection = self.session.connection()
        try:
            for envelope in envelopes:
                # Cached statements with their values as parameters: nothing to compile per event.
                position = _position(connection.execute(_INSERT_EVENT, event_row(envelope)))
                connection.execute(_INSERT_OUTBOX, {"position": position, "event_id": str(envelope.event_id)})
        except IntegrityError as error:
            raise ConcurrencyConflict(stream_id, expected_version) from error
        self.appended = True
        return envelopes

    def _remember_key(self, request: IdempotentRequest, envelopes: Sequence[EventEnvelope]) -> None:
        """Record the command's key with its events, in their transaction; a key another request
        recorded first raises IdempotencyKeyInUse (and this transaction records nothing)."""
        table = idempotency_keys_table
        event_ids = [str(envelope.event_id) for envelope in envelopes]
        row = self.session.execute(
            select(table.c.request_id, table.c.event_ids).where(table.c.key == request.key)
        ).first()
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(table).values(key_row(request, event_ids)))
            except IntegrityError as error:  # a concurrent request with this key committed first
                raise IdempotencyKeyInUse(request.key) from error
        elif row.request_id == request.request_id:  # the same command, appending again
            self.session.execute(
                update(table)
                .where(table.c.key == request.key)
                .values(event_ids=json.dumps([*json.loads(row.event_ids), *event_ids]))
            )
        else:
            raise IdempotencyKeyInUse(request.key)

    # -- consumed events ---------------------------------------------------------------------
    def has_received(self, event_id: UUID) -> bool:
        query = select(inbox_table.c.position).where(inbox_table.c.event_id == str(event_id))
        return self.session.execute(query).first() is not None

    def record_received(self, envelope: EventEnvelope, source_stream: str) -> bool:
        """Keep the consumed event; False when the inbox holds its event id already.

        One statement, ``INSERT … ON CONFLICT (event_id) DO NOTHING``: a concurrent delivery of the same
        event (reclaim overlapping the subscriber, a second instance) waits for the other transaction on
        PostgreSQL and finds it recorded, so it is a duplicate, never a conflict.
        """
        # One cached statement with its values as parameters: no new construct to compile per event.
        inserted = self.session.connection().execute(
            insert_once(self.session.get_bind().dialect.name, inbox_table, "event_id"),
            inbox_row(envelope, source_stream, _now()),
        )
        return inserted.first() is not None  # RETURNING gives no row when the event id was there

    def forget_received(self, event_id: UUID) -> None:
        """Take back the inbox row this unit recorded (an event parked after all: it is not received)."""
        self.session.execute(delete(inbox_table).where(inbox_table.c.event_id == str(event_id)))

    def received(self, *event_types: str, stream_id: str | None = None) -> list[EventEnvelope]:
        """Consumed events of the given types (all when none given), in the order received."""
        query = select(inbox_table.c.envelope).order_by(inbox_table.c.position)
        if event_types:
            query = query.where(inbox_table.c.event_type.in_(event_types))
        if stream_id is not None:
            query = query.where(inbox_table.c.stream_id == stream_id)
        return [EventEnvelope.model_validate_json(text) for text in self.session.scalars(query)]


def _commit(unit: UnitOfWork) -> None:
    """Commit the unit, with the answer it keeps for its key; a keyed unit whose commit fails raises
    NotRecorded (a busy database stays StoreBusy, a key another request recorded IdempotencyKeyInUse)."""
    try:
        with busy_means_retry():
            if unit.keyed is not None and unit.answer is not None:
                _keep_answer(unit.session, unit.keyed, unit.answer)
            if unit.appended:
                fault_point("store.before_commit")  # the fault suite kills a service here
            unit.session.commit()
    except (StoreBusy, IdempotencyKeyInUse):
        raise
    except Exception as error:
        if unit.keyed is None:
            raise
        log.exception("could not commit the command with Idempotency-Key %r", unit.keyed.key)
        raise NotRecorded() from error
    if unit.appended:
        fault_point("store.after_commit")


def _keep_answer(session: Session, request: IdempotentRequest, answer: StoredResponse) -> None:
    """Keep the answer with the key's row; a command that recorded no event gets a row of its own."""
    if keep_response(session, request, answer):
        return
    status, headers, body = answer
    answered = {"response_status": status, "response_headers": json.dumps(headers), "response_body": body}
    try:
        with session.begin_nested():
            session.execute(insert(idempotency_keys_table).values({**key_row(request, []), **answered}))
    except IntegrityError as error:  # a concurrent request with this key recorded it first
        raise IdempotencyKeyInUse(request.key) from error


def _position(inserted: Result[Any]) -> int:
    """The global position the database gave an inserted event."""
    key = cast("CursorResult[Any]", inserted).inserted_primary_key
    assert key is not None
    return int(key[0])


def _now() -> datetime:
    return datetime.now(UTC)


def _envelope(
    producer: str, stream_id: str, version: int, new: NewEvent, recorded_at: datetime
) -> EventEnvelope:
    event_id = new_event_id()
    payload = new.payload
    return EventEnvelope(
        event_id=event_id,
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=new.occurred_at.astimezone(UTC),
        recorded_at=recorded_at,
        producer=producer,
        stream_id=stream_id,
        version=version,
        correlation_id=new.correlation_id or event_id,
        causation_id=new.causation_id,
        payload=payload.model_dump(mode="json"),
    )
