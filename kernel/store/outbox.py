"""The outbox's side of the event store: what the relay has not published yet, and marking it published.

Several instances of a producer share one outbox on PostgreSQL, and each relay pass *claims* what it
publishes (:meth:`Outbox.claim_unpublished`): one transaction that takes the outbox's advisory lock
without waiting, locks the lowest unpublished rows (``FOR UPDATE``), and marks them published after
their XADD before it commits. The instance that holds the lock publishes for all of them; the others'
passes find it taken and publish nothing, so every row is published once and in position order (per
aggregate order on the stream). On SQLite, one process writes a store: a claim is a plain read.

Marking published is not waited onto the disk (SQLite ``synchronous=NORMAL``, PostgreSQL
``synchronous_commit off``, for that transaction only): a mark lost to a power cut leaves its events
unpublished, so they are published again, which delivery at least once already allows (ADR 0001) and
consumers absorb (their inbox). The next command's commit, waited onto the disk, takes the mark with it.
Without this, every relay pass cost a second disk flush per command, holding the write lock meanwhile.
On SQLite a mark is not counted for group commit's flushes either (``NOT_FLUSHED``): the next batch's read
then flushes only commands' commits, which their own flushes have usually covered already.

On SQLite a command's commit is visible a moment before it is on disk (group commit, ADR 0024): what
the relay reads is put on disk before it is published (``OneWriter.flush_visible``), so no event leaves
the service that a power cut could take back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, TypeAdapter
from sqlalchemy import Connection, Dialect, Engine, Row, Select, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from kernel.store.locks import scope_key
from kernel.store.sqlite import NOT_FLUSHED, SYNCHRONOUS, writer_of
from kernel.store.tables import (
    StoredEvent,
    aware,
    driver_conversion,
    events_table,
    outbox_table,
    stored_event,
)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An unpublished event as the relay publishes it, read from its row without building an envelope.

    ``fields``: the envelope's fields but ``payload`` and ``signature``, as ``EventEnvelope.model_dump(
    mode="json")`` gives them (the relay signs and sends them); ``payload``: parsed from its stored text.
    The row was validated as an envelope when it was appended; it is not validated again here (a pydantic
    envelope per event cost ~6 µs, only for the relay to dump it back to JSON).
    """

    position: int
    fields: dict[str, Any]
    payload: dict[str, Any]
    signature: str | None


_TIME: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)
"""The envelope's times in JSON mode: pydantic's own serializer of its ``AwareDatetime`` fields."""
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid_text(stored: str) -> str:
    """A stored UUID as the envelope's JSON mode writes it (``str(UUID)``, which the store stores)."""
    return stored if _UUID_TEXT.fullmatch(stored) else str(UUID(stored))


def pending_event(row: Any) -> PendingEvent:
    """The ``PendingEvent`` of an ``events`` row (``envelope_of`` would give the same envelope fields)."""
    causation_id = row.causation_id
    return PendingEvent(
        position=row.position,
        fields={
            "event_id": _uuid_text(row.event_id),
            "event_type": row.event_type,
            "schema_version": row.schema_version,
            "occurred_at": _TIME.dump_python(aware(row.occurred_at), mode="json"),
            "recorded_at": _TIME.dump_python(aware(row.recorded_at), mode="json"),
            "producer": row.producer,
            "stream_id": row.stream_id,
            "version": row.version,
            "correlation_id": _uuid_text(row.correlation_id),
            "causation_id": None if causation_id is None else _uuid_text(causation_id),
        },
        payload=json.loads(row.payload),
        signature=row.signature,
    )


CLAIM_IDLE_LIMIT = "10s"
"""How long a claim's transaction may wait idle (on Redis's XADD, on a frozen process) before PostgreSQL ends
it: a pass waits for Redis at most its client's timeouts, far less."""


class OutboxClaim:
    """The lowest unpublished events, held by one relay pass until it marks them published or lets go.

    On PostgreSQL the claim is an open transaction holding the outbox's lock and the rows' locks; a
    process that dies mid-pass drops its connection, and the rows are claimed again (published again:
    consumers deduplicate). Without a transaction (SQLite) marking is a transaction of its own.
    """

    def __init__(self, outbox: Outbox, events: list[PendingEvent], connection: Connection | None) -> None:
        self.outbox = outbox
        self.events = events
        self._connection = connection

    @property
    def holding(self) -> bool:
        """Whether the claim holds a transaction (PostgreSQL) that ``release`` must end."""
        return self._connection is not None

    def mark_published(self, published: Sequence[tuple[int, str]]) -> None:
        """Record the Redis entry id of each published position and end the claim (commit)."""
        if self._connection is None:
            self.outbox.mark_published(published)
            return
        if published:
            self._connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            self._connection.execute(_MARK_PUBLISHED, _published_rows(published))
        self._connection.commit()
        self.release()

    def release(self) -> None:
        """Let go of whatever was not marked (rollback); the next pass claims it again."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


_MARK_PUBLISHED = (
    update(outbox_table)
    .where(outbox_table.c.position == bindparam("published_position"))
    .values(published_at=bindparam("now"), stream_entry_id=bindparam("entry_id"))
)


_MARK_PUBLISHED_SQL = (
    f"UPDATE {outbox_table.name} SET {outbox_table.c.published_at.name} = ?, "
    f"{outbox_table.c.stream_entry_id.name} = ? WHERE {outbox_table.c.position.name} = ?"
)
"""``_MARK_PUBLISHED`` as SQLite's driver takes it: the time rendered once for the batch, not per row by
SQLAlchemy (6.5-9 µs a row through ``execute``, ~3 here)."""


@lru_cache(maxsize=4)
def _stored_time(dialect: Dialect) -> Callable[[datetime], Any]:
    """How the dialect stores a ``published_at``: SQLAlchemy's own bind processor of the column's type."""
    processor = driver_conversion(outbox_table.c.published_at, dialect)
    return processor if processor is not None else lambda moment: moment


def _published_rows(published: Sequence[tuple[int, str]]) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {"published_position": position, "entry_id": entry_id, "now": now} for position, entry_id in published
    ]


class Outbox:
    """The event store's outbox queries (a part of ``EventStore``)."""

    engine: Engine
    read_engine: Engine
    producer: str

    def unpublished(self, limit: int) -> list[StoredEvent]:
        """The lowest-positioned events the relay has not yet published."""
        return [stored_event(row._mapping) for row in self._unpublished_rows(limit)]

    def _unpublished_rows(self, limit: int) -> Sequence[Row[Any]]:
        # A connection, not an ORM session, and a cached statement: the relay asks after every command.
        with self.read_engine.connect() as connection:
            rows = connection.execute(_lowest_unpublished(limit)).all()
        writer = writer_of(self.engine)
        if rows and writer is not None:
            writer.flush_visible()  # a commit not yet on disk is not handed out (ADR 0024)
        return rows

    def claim_unpublished(self, limit: int) -> OutboxClaim:
        """The lowest unpublished events for one relay pass to publish; none while another instance's
        relay holds the outbox (PostgreSQL), which publishes them."""
        if self.engine.dialect.name != "postgresql":
            return OutboxClaim(self, [pending_event(row) for row in self._unpublished_rows(limit)], None)
        connection = self.engine.connect()
        try:
            # A frozen holder (SIGSTOP, a VM paused mid-pass) must not stop every instance's publishing: the
            # server ends a claim idle this long, which frees the lock and the rows (the scale audit).
            lock = text(
                "SELECT pg_try_advisory_xact_lock(:key), "
                f"set_config('idle_in_transaction_session_timeout', '{CLAIM_IDLE_LIMIT}', true)"
            )
            if not connection.execute(lock, {"key": scope_key(f"outbox:{self.producer}")}).scalar():
                connection.close()
                return OutboxClaim(self, [], None)
            rows = connection.execute(_lowest_unpublished(limit).with_for_update(of=outbox_table))
            return OutboxClaim(self, [pending_event(row) for row in rows], connection)
        except BaseException:
            connection.close()
            raise

    def mark_published(self, published: Sequence[tuple[int, str]]) -> None:
        """Record the Redis entry id of each published position: one statement (executemany), one commit."""
        if not published:
            return
        with self.engine.connect() as connection:
            # On SQLite not waited onto the disk, nor counted for a flush (see above); PostgreSQL claims in
            # a transaction instead.
            connection.execution_options(**{SYNCHRONOUS: "NORMAL", NOT_FLUSHED: True})
            with connection.begin():
                if connection.dialect.name != "sqlite":
                    connection.execute(_MARK_PUBLISHED, _published_rows(published))
                    return
                now = _stored_time(connection.dialect)(datetime.now(UTC))
                rows = [(now, entry_id, position) for position, entry_id in published]
                connection.exec_driver_sql(_MARK_PUBLISHED_SQL, rows)

    def published_entries(self) -> list[tuple[int, str]]:
        """(position, Redis entry id) of every published event."""
        query = select(outbox_table.c.position, outbox_table.c.stream_entry_id).where(
            outbox_table.c.published_at.is_not(None)
        )
        with Session(self.read_engine) as session:
            return [(position, entry_id) for position, entry_id in session.execute(query).all()]

    def published_count(self) -> int:
        """How many events are marked published: at least as many entries were added to the stream."""
        query = select(func.count()).select_from(outbox_table).where(outbox_table.c.published_at.is_not(None))
        with self.read_engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def republish(self, positions: Sequence[int]) -> None:
        """Mark events unpublished again, so the relay publishes them on its next pass."""
        with Session(self.engine) as session, session.begin():
            for start in range(0, len(positions), 500):
                session.execute(
                    update(outbox_table)
                    .where(outbox_table.c.position.in_(positions[start : start + 500]))
                    .values(published_at=None, stream_entry_id=None)
                )


@lru_cache(maxsize=16)
def _lowest_unpublished(limit: int) -> Select[Any]:
    """The statement for a batch of ``limit``, made once per batch size (a relay uses one)."""
    return (
        select(events_table)
        .join(outbox_table, outbox_table.c.position == events_table.c.position)
        .where(outbox_table.c.published_at.is_(None))
        # The outbox's position (the same number): SQLite then reads the published_at index in order and
        # stops at ``limit``, instead of sorting every unpublished row (a backlog sorted at every pass).
        .order_by(outbox_table.c.position)
        .limit(limit)
    )
