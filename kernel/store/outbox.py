"""The outbox's side of the event store: what the relay has not published yet, and marking it published."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.orm import Session

from kernel.store.tables import StoredEvent, events_table, outbox_table, stored_event


class Outbox:
    """The event store's outbox queries (a part of ``EventStore``)."""

    engine: Engine
    read_engine: Engine

    def unpublished(self, limit: int) -> list[StoredEvent]:
        """The lowest-positioned events the relay has not yet published."""
        query = (
            select(events_table)
            .join(outbox_table, outbox_table.c.position == events_table.c.position)
            .where(outbox_table.c.published_at.is_(None))
            .order_by(events_table.c.position)
            .limit(limit)
        )
        with Session(self.read_engine) as session:
            return [stored_event(row) for row in session.execute(query).mappings()]

    def mark_published(self, published: Sequence[tuple[int, str]]) -> None:
        """Record the Redis entry id of each published position: one statement (executemany), one commit."""
        if not published:
            return
        now = datetime.now(UTC)
        statement = (
            update(outbox_table)
            .where(outbox_table.c.position == bindparam("published_position"))
            .values(published_at=now, stream_entry_id=bindparam("entry_id"))
        )
        rows = [{"published_position": position, "entry_id": entry_id} for position, entry_id in published]
        with Session(self.engine) as session, session.begin():
            session.connection().execute(statement, rows)

    def published_entries(self) -> list[tuple[int, str]]:
        """(position, Redis entry id) of every published event."""
        query = select(outbox_table.c.position, outbox_table.c.stream_entry_id).where(
            outbox_table.c.published_at.is_not(None)
        )
        with Session(self.read_engine) as session:
            return [(position, entry_id) for position, entry_id in session.execute(query).all()]

    def republish(self, positions: Sequence[int]) -> None:
        """Mark events unpublished again, so the relay publishes them on its next pass."""
        with Session(self.engine) as session, session.begin():
            for start in range(0, len(positions), 500):
                session.execute(
                    update(outbox_table)
                    .where(outbox_table.c.position.in_(positions[start : start + 500]))
                    .values(published_at=None, stream_entry_id=None)
                )
