"""The fact log 结算事实表: the settlement facts, in the order the live book was fed them, as compact rows.

Written by the live ledger in the consumer's transaction, next to the inbox row of the same event,
so the archive (the source of truth) and the log never disagree. Each row is a JSON array of one
fact's fields, already validated and translated at the edge: a replay reads these rows instead of
validating every envelope and payload again. ``derive_fact_log`` rebuilds the log from the archive
alone (the same rows, tested), for archives written before the log existed and for audits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, fields
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, String, Table, Text, delete, func, select
from sqlalchemy.orm import Session

from kernel.store.store import inbox_table
from services.settlement.facts import (
    ApplicationRefused,
    ApprovedItem,
    Fact,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)

Database = Session | Connection

KINDS: dict[type[Any], str] = {
    PersonSurveyed: "surveyed",
    PersonAssessed: "assessed",
    ItemsApproved: "approved",
    ApplicationRefused: "refused",
    ServiceRecorded: "recorded",
    InstitutionChanged: "changed",
}
"""Stable names of the fact kinds in the log (never Python paths)."""

_BATCH = 5000


def fact_log_table(metadata: Any) -> Table:
    return Table(
        "settlement_facts",
        metadata,
        Column("position", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("fact", Text, nullable=False, comment="JSON array: the fact's kind, then its fields in order"),
        sqlite_autoincrement=True,
    )


def encode(fact: Fact) -> str:
    """One fact as its log text: dates as ISO strings, approved items as arrays."""
    return json.dumps([KINDS[type(fact)], *astuple(fact)], ensure_ascii=False, default=_iso)


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a fact field")


def _decoder(kind: type[Any]) -> Callable[[list[Any]], Fact]:
    """A decoder of one kind's rows: dates back from ISO strings, approved items back to values."""
    names = [field.name for field in fields(kind)]
    day_fields = [index for index, name in enumerate(names, 1) if name.endswith(("_on", "recorded_on"))]
    item_field = names.index("items") + 1 if "items" in names else None
    from_iso, new = date.fromisoformat, object.__new__

    def decode(row: list[Any]) -> Fact:
        for index in day_fields:
            if index < len(row) and row[index] is not None:
                row[index] = from_iso(row[index])
        if item_field is not None:
            row[item_field] = tuple(ApprovedItem(*item) for item in row[item_field])
        if len(row) <= len(names):  # logged before a field was added: the constructor fills its default
            return kind(*row[1:])  # type: ignore[no-any-return]
        # A complete row: the frozen value without its __init__, which sets each field through
        # object.__setattr__ (half the cost of a replay's reading). The same object, field for field.
        fact = new(kind)
        fact.__dict__.update(zip(names, row[1:], strict=True))
        return fact  # type: ignore[no-any-return]

    return decode


_DECODERS = {name: _decoder(kind) for kind, name in KINDS.items()}


def decode(text: str) -> Fact:
    row = json.loads(text)
    return _DECODERS[row[0]](row)


def append(database: Database, table: Table, fact: Fact) -> None:
    """Log one fact the live book is being fed (in the consumer's transaction)."""
    database.execute(table.insert().values(event_id=fact.event_id, fact=encode(fact)))


def read(database: Database | Engine, table: Table) -> Iterator[Fact]:
    """Every logged fact in the order the live book was fed, decoded without pydantic.

    The rows are all read before this returns (only the decoding is lazy): a replay drops the old
    ledger on the same connection in another thread while it decodes (replay.rebuild_ledger).
    """
    return decoded(texts(database, table))


def texts(database: Database | Engine, table: Table) -> list[str]:
    """The log's rows as stored (JSON text), in feed order: one query, decoded later."""
    query = select(table.c.fact).order_by(table.c.position)
    if isinstance(database, Engine):
        with database.connect() as connection:
            return list(connection.scalars(query))
    return list(database.scalars(query))


def decoded(rows: Iterable[str]) -> Iterator[Fact]:
    """Facts of the log's rows, in their order."""
    decoders, loads = _DECODERS, json.loads
    for text in rows:
        row = loads(text)
        yield decoders[row[0]](row)


def rewrite(database: Database, table: Table, facts: Iterable[Fact]) -> int:
    """Replace the log with these facts, in order; returns how many."""
    database.execute(delete(table))
    rows: list[dict[str, str]] = []
    count = 0
    for fact in facts:
        rows.append({"event_id": fact.event_id, "fact": encode(fact)})
        if len(rows) == _BATCH:
            count += _insert(database, table, rows)
            rows = []
    return count + _insert(database, table, rows)


def _insert(database: Database, table: Table, rows: Sequence[dict[str, str]]) -> int:
    if rows:
        database.execute(table.insert(), list(rows))
    return len(rows)


def covers_archive(database: Database | Engine, table: Table, event_types: Sequence[str]) -> bool:
    """Whether the log holds one row per archived settlement event (else derive it from the archive)."""
    archived = select(func.count()).select_from(inbox_table).where(inbox_table.c.event_type.in_(event_types))
    logged = select(func.count()).select_from(table)
    if isinstance(database, Engine):
        with database.connect() as connection:
            return connection.scalar(archived) == connection.scalar(logged)
    return database.scalar(archived) == database.scalar(logged)
