"""What is left unsettled 未结算事项, kept in a table: each person's, as their book last said (ADR 0021).

The live ledger keeps the books of recent persons only, so what waits (a record without its approval,
a fee a policy does not state …) cannot be read from one whole book in memory. Each time a person's
book says something else, that person's rows are replaced, in the transaction that fed the fact (once
per transaction: the live ledger writes a batch's persons together); a replay writes them all again.
Read by subject, as the book lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.orm import Session

from services.settlement.book.dues import Unsettled
from services.settlement.ledger.tables import projections_table, unsettled_table

Database = Session | Connection

UNSETTLED = "unsettled"
"""The projection's name in ``settlement_projections``."""

_BATCH = 5000


def replace(database: Database, items_of: Mapping[str, Sequence[Unsettled]]) -> None:
    """Some persons' unsettled items, as their books now say: one DELETE and one INSERT for all of them."""
    persons = list(items_of)
    for start in range(0, len(persons), _BATCH):
        chosen = persons[start : start + _BATCH]
        database.execute(delete(unsettled_table).where(unsettled_table.c.person.in_(chosen)))
    rows = [_row(person, item) for person, items in items_of.items() for item in items]
    if rows:
        database.execute(insert(unsettled_table), rows)


class Rewrite:
    """The table written again from books fed whole persons (a replay): empty it, then ``add`` each book's
    items as the book is done, and ``finish`` to mark the projection built."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._rows: list[dict[str, str]] = []
        database.execute(delete(unsettled_table))

    def add(self, items: Iterable[Unsettled]) -> None:
        for item in items:
            self._rows.append(_row(item.person or "", item))
            if len(self._rows) >= _BATCH:
                self._flush()

    def finish(self) -> None:
        self._flush()
        mark_built(self._database)

    def _flush(self) -> None:
        if self._rows:
            self._database.execute(insert(unsettled_table), self._rows)
            self._rows = []


def mark_built(database: Database) -> None:
    if not is_built(database):
        database.execute(insert(projections_table).values(name=UNSETTLED))


def is_built(database: Database | Engine) -> bool:
    query = select(projections_table.c.name).where(projections_table.c.name == UNSETTLED)
    if isinstance(database, Engine):
        with database.connect() as connection:
            return connection.scalar(query) is not None
    return database.scalar(query) is not None


def read(engine: Engine) -> list[Unsettled]:
    """Every unsettled item, by subject."""
    column = unsettled_table.c
    query = select(column.person, column.subject, column.code, column.reason, column.source_event_ids)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(column.subject, column.person)).all()
    return [
        Unsettled(subject, reason, tuple(orjson.loads(sources)), code, person or None)
        for person, subject, code, reason, sources in rows
    ]


def _row(person: str, item: Unsettled) -> dict[str, str]:
    return {
        "person": person,
        "subject": item.subject,
        "code": item.code,
        "reason": item.reason,
        "source_event_ids": orjson.dumps(list(item.source_event_ids)).decode(),
    }
