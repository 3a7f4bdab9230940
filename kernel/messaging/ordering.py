"""Per-aggregate order for consumers: version n+1 of an aggregate is applied only after version n.

Why early events are *parked in a table* rather than left pending on the stream for reclaim:

* Parking acknowledges the stream entry, so a waiting event does not spend its delivery budget
  (``max_deliveries``) while its predecessor is itself being retried, dead-lettered and fixed:
  leaving it pending would dead-letter a perfectly good event just for waiting.
* It is applied the moment its predecessor commits (the consumer drains the aggregate's parked
  events right after), not one claim-idle period later.
* The table lives in the service's own database, so parked events survive a restart and a loss of
  Redis, and they are visible (``parked_count``) instead of hiding among pending entries.
* Only the late aggregate waits: events of other aggregates behind it on the stream flow on.

Which versions a consumer has seen comes from the inbox's indexed ``version`` column, keyed by
*(source stream, stream_id)* (one producer per stream). Every event on a subscribed stream is
archived in the inbox, including types the service has no handler for, so a service that acts on
only some event types of an aggregate still sees every version; a gap can only be an event not yet
delivered (or one that was dead-lettered: its successors wait until ``rehab dlq retry`` re-delivers
it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from rehab_contracts import EventEnvelope
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from kernel.store.once import insert_once
from kernel.store.store import Position, inbox_table

parking_metadata = MetaData()

parked_table = Table(
    "parked",
    parking_metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("source_stream", String(100), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_entry_id", String(40), nullable=False),
    Column("fields", Text, nullable=False, comment="The stream entry's fields as a JSON object."),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_parked_aggregate", "source_stream", "stream_id", "version"),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True)
class ParkedEvent:
    """An event that arrived before its predecessor, kept until the predecessor is applied."""

    event_id: str
    source_stream: str
    stream_id: str
    version: int
    source_entry_id: str
    fields: dict[str, str]
    attempts: int


def create_parking(engine: Engine) -> None:
    """Create the parked table if it is missing (the consumer does it when it is built)."""
    parking_metadata.create_all(engine)


def seen_versions(
    session: Session, source_stream: str, stream_id: str, *, but: str | None = None
) -> set[int]:
    """Versions of one producer aggregate already in the inbox (``but``: except that event's own)."""
    return versions_seen(session, source_stream, [stream_id], but=but).get(stream_id, set())


def versions_seen(
    session: Session, source_stream: str, stream_ids: Iterable[str], *, but: str | None = None
) -> dict[str, set[int]]:
    """Versions of some producer aggregates already in the inbox, by ``stream_id``: one indexed query
    (a row written before the inbox had its ``version`` column is read from its envelope). ``but``: an
    event id whose own row is left out (the event being received, recorded first)."""
    wanted = list(dict.fromkeys(stream_ids))
    seen: dict[str, set[int]] = {stream_id: set() for stream_id in wanted}
    query = _VERSIONS if but is None else _VERSIONS_BUT
    for start in range(0, len(wanted), 500):
        chosen = {"source_stream": source_stream, "stream_ids": wanted[start : start + 500], "but": but}
        for stream_id, version, envelope in session.execute(query, chosen):
            seen[stream_id].add(int(version) if version is not None else int(json.loads(envelope)["version"]))
    return seen


# Built once, their values bound per call: building the statement was most of a batch's read.
_VERSIONS = select(
    inbox_table.c.stream_id,
    inbox_table.c.version,
    case((inbox_table.c.version.is_(None), inbox_table.c.envelope)),
).where(
    inbox_table.c.source_stream == bindparam("source_stream"),
    inbox_table.c.stream_id.in_(bindparam("stream_ids", expanding=True)),
)
_VERSIONS_BUT = _VERSIONS.where(inbox_table.c.event_id != bindparam("but"))


def accounted_for(session: Session, event_ids: Iterable[str]) -> set[str]:
    """Which of some event ids this service has received (in the inbox) or parked: two indexed queries
    per 500 ids, for a check of many stream entries (reconciliation) instead of two per entry."""
    wanted = list(dict.fromkeys(event_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for table in (inbox_table, parked_table):
            found.update(session.scalars(select(table.c.event_id).where(table.c.event_id.in_(chunk))))
    return found


def parked_of(session: Session, source_stream: str, stream_ids: Iterable[str]) -> dict[str, set[str]]:
    """Which of some aggregates of one stream have events parked, with those events' ids: one indexed
    query per 500 aggregates (``ix_parked_aggregate``)."""
    wanted = list(dict.fromkeys(stream_ids))
    parked: dict[str, set[str]] = {}
    for start in range(0, len(wanted), 500):
        chosen = {"source_stream": source_stream, "stream_ids": wanted[start : start + 500]}
        for stream_id, event_id in session.execute(_PARKED_OF, chosen):
            parked.setdefault(stream_id, set()).add(event_id)
    return parked


_PARKED_OF = select(parked_table.c.stream_id, parked_table.c.event_id).where(
    parked_table.c.source_stream == bindparam("source_stream"),
    parked_table.c.stream_id.in_(bindparam("stream_ids", expanding=True)),
)


def park(
    session: Session,
    envelope: EventEnvelope,
    source_stream: str,
    source_entry_id: str,
    fields: Mapping[str, str],
) -> None:
    """Keep an early event (once: a second delivery of a parked event, even a concurrent one, changes
    nothing)."""
    session.execute(
        insert_once(session.get_bind().dialect.name, parked_table, "event_id"),
        dict(
            event_id=str(envelope.event_id),
            source_stream=source_stream,
            stream_id=envelope.stream_id,
            version=envelope.version,
            source_entry_id=source_entry_id,
            fields=json.dumps(dict(fields), ensure_ascii=False),
            parked_at=datetime.now(UTC),
            attempts=0,
            last_error=None,
        ),
    )


def is_parked(session: Session, event_id: str) -> bool:
    return (
        session.scalar(select(parked_table.c.position).where(parked_table.c.event_id == event_id)) is not None
    )


def unpark(session: Session, event_id: str) -> None:
    session.execute(delete(parked_table).where(parked_table.c.event_id == event_id))


def first_parked(session: Session, source_stream: str, stream_id: str) -> ParkedEvent | None:
    """The lowest parked version of one aggregate: the only one that can be next."""
    row = (
        session.execute(
            select(parked_table)
            .where(parked_table.c.source_stream == source_stream, parked_table.c.stream_id == stream_id)
            .order_by(parked_table.c.version, parked_table.c.position)
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return ParkedEvent(
        event_id=row["event_id"],
        source_stream=row["source_stream"],
        stream_id=row["stream_id"],
        version=row["version"],
        source_entry_id=row["source_entry_id"],
        fields=json.loads(row["fields"]),
        attempts=row["attempts"],
    )


def parked_aggregates(session: Session) -> list[tuple[str, str]]:
    """(source stream, stream_id) of every aggregate with a parked event."""
    query = select(parked_table.c.source_stream, parked_table.c.stream_id).distinct()
    return [(stream, stream_id) for stream, stream_id in session.execute(query)]


def record_attempt(session: Session, event_id: str, error: str) -> int:
    """Count a failed attempt to apply a parked event; returns the attempts so far."""
    session.execute(
        update(parked_table)
        .where(parked_table.c.event_id == event_id)
        .values(attempts=parked_table.c.attempts + 1, last_error=error)
    )
    attempts = session.scalar(select(parked_table.c.attempts).where(parked_table.c.event_id == event_id))
    return int(attempts or 0)


def parked_count(session: Session | Connection) -> int:
    """How many events wait parked; ``rehab verify`` counts them on a plain read-only connection."""
    return int(session.scalar(select(func.count()).select_from(parked_table)) or 0)
