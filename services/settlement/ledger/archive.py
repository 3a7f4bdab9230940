"""The archive 归档 (the kernel's inbox) as settlement reads it: envelopes in the order received, their facts.

The one pager over the inbox: every reader of the archive (replay, as-of, what-if, reports, 附件3)
walks it here, by position, a page at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from rehab_contracts import EventEnvelope
from sqlalchemy import Connection, Engine, Row, Select, select
from sqlalchemy.orm import Session

from kernel.store.store import inbox_table
from services.settlement.book.facts import Fact
from services.settlement.fact_types import fact_of

Database = Session | Connection

_PAGE = 1000

Item = TypeVar("Item")


class Counted(Generic[Item]):
    """An iterator that counts what went through it: a replay reports how many events it read without
    holding them in a list."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._items = iter(items)
        self.count = 0

    def __iter__(self) -> Iterator[Item]:
        return self

    def __next__(self) -> Item:
        item = next(self._items)
        self.count += 1
        return item


def archive(
    database: Database | Engine, event_types: Sequence[str] = (), received_before: datetime | None = None
) -> Iterator[EventEnvelope]:
    """Every archived (consumed) event, or those of the given types, in the order received; with
    ``received_before``, only those settlement had archived before that instant."""
    after = 0
    while True:
        query = (
            select(inbox_table.c.position, inbox_table.c.envelope)
            .where(inbox_table.c.position > after)
            .order_by(inbox_table.c.position)
            .limit(_PAGE)
        )
        if event_types:
            # Filter while walking the archive in position order: on SQLite, the event_type index
            # would make every page scan and sort all the later events of those types.
            query = query.where((inbox_table.c.event_type + "").in_(event_types))
        if received_before is not None:
            query = query.where(inbox_table.c.received_at < _bound(database, received_before))
        rows = _page(database, query)
        if not rows:
            return
        for _position, text in rows:
            yield EventEnvelope.model_validate_json(text)
        after = rows[-1][0]


def _page(database: Database | Engine, query: Select[int, str]) -> Sequence[Row[int, str]]:
    if isinstance(database, Engine):
        with database.connect() as connection:
            return connection.execute(query).all()
    return database.execute(query).all()


def _bound(database: Database | Engine, moment: datetime) -> datetime:
    # SQLite keeps the kernel's UTC times without an offset; a naive UTC bound compares right there.
    dialect = database.dialect if isinstance(database, Engine | Connection) else database.get_bind().dialect
    return moment if dialect.name != "sqlite" else moment.astimezone(UTC).replace(tzinfo=None)


def facts_of(envelopes: Iterable[EventEnvelope]) -> Iterator[Fact]:
    """The settlement facts of archived events (each envelope and payload validated), in order."""
    for envelope in envelopes:
        fact = fact_of(envelope)
        if fact is not None:
            yield fact


def archived_events(engine: Engine, event_ids: Sequence[str]) -> list[tuple[EventEnvelope, datetime]]:
    """Archived envelopes with the time settlement received them, in the order of ``event_ids``."""
    query = select(inbox_table.c.event_id, inbox_table.c.envelope, inbox_table.c.received_at).where(
        inbox_table.c.event_id.in_(list(event_ids))
    )
    with engine.connect() as connection:
        found = {row.event_id: row for row in connection.execute(query)}
    return [
        (EventEnvelope.model_validate_json(found[event_id].envelope), _aware(found[event_id].received_at))
        for event_id in event_ids
        if event_id in found
    ]


def _aware(moment: datetime) -> datetime:
    # SQLite drops the offset; the kernel writes UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
