"""Many aggregates at once in one unit of work: their events loaded with one query, new events appended with
one executemany per table (a bulk import), instead of a query, a savepoint and two INSERTs per event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rehab_contracts import EventEnvelope
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from kernel.store.store import ConcurrencyConflict, NewEvent, UnitOfWork, _envelope, _now
from kernel.store.tables import event_row, events_table, outbox_table, stored_event

IN_LIMIT = 500
"""Stream ids per ``IN (…)`` list: well under SQLite's and PostgreSQL's limits on bound parameters."""


@dataclass(frozen=True)
class Append:
    """New events of one aggregate, after ``expected_version``."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


def load_streams(unit: UnitOfWork, stream_ids: Iterable[str]) -> dict[str, list[EventEnvelope]]:
    """Every event of each aggregate, in version order; an aggregate without events is left out."""
    wanted = list(dict.fromkeys(stream_ids))
    loaded: dict[str, list[EventEnvelope]] = {}
    for start in range(0, len(wanted), IN_LIMIT):
        query = (
            select(events_table)
            .where(events_table.c.stream_id.in_(wanted[start : start + IN_LIMIT]))
            .order_by(events_table.c.stream_id, events_table.c.version)
        )
        for row in unit.session.execute(query).mappings():
            loaded.setdefault(row["stream_id"], []).append(stored_event(row).envelope)
    return loaded


def append_streams(unit: UnitOfWork, appends: Sequence[Append]) -> list[list[EventEnvelope]]:
    """Append each aggregate's events after its expected version: one INSERT of many rows into ``events``
    (RETURNING the positions the database gave) and one into ``outbox``; the envelopes per append.

    No savepoint: a version someone else took first (or a duplicate event id) raises ConcurrencyConflict
    and the caller's unit rolls back as a whole. A keyed unit records its key with these events.
    """
    recorded_at = _now()
    appended = [
        [
            _envelope(unit.producer, append.stream_id, append.expected_version + offset, new, recorded_at)
            for offset, new in enumerate(append.events, start=1)
        ]
        for append in appends
    ]
    envelopes = [envelope for stream in appended for envelope in stream]
    if not envelopes:
        return appended
    if unit.keyed is not None:
        unit._remember_key(unit.keyed, envelopes)  # the store's own unit, its key recorded once per batch
    # RETURNING in the order the database likes: asking SQLAlchemy for the rows' order makes it insert
    # them one by one on SQLite. The outbox needs only each position with its event id.
    statement = insert(events_table).returning(events_table.c.position, events_table.c.event_id)
    try:
        returned = unit.session.execute(statement, [event_row(e) for e in envelopes]).all()
    except IntegrityError as error:
        raise ConcurrencyConflict(appends[0].stream_id, appends[0].expected_version) from error
    unit.session.execute(
        insert(outbox_table),
        [{"position": position, "event_id": event_id} for position, event_id in sorted(returned)],
    )
    unit.appended = True
    return appended
