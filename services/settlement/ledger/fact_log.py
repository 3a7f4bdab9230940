"""The fact log 结算事实表: the settlement facts, in the order the live book was fed them, as compact rows.

Written by the live ledger in the consumer's transaction, next to the inbox row of the same event,
so the archive (the source of truth) and the log never disagree. Each row is one fact, already
validated and translated at the edge, in its fact type's row codec (fact_rows.py, one per entry of
fact_types.py): a replay reads these rows instead of validating every envelope and payload again.
``derive_fact_log`` rebuilds the log from the archive alone (the same rows, tested), for archives
written before the log existed and for audits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, CursorResult, Engine, Row, Select, Table, delete, func, select, update
from sqlalchemy.orm import Session

from kernel.store.store import inbox_table
from services.settlement.book.facts import Fact
from services.settlement.fact_types import BY_FACT, BY_NAME, SETTLEMENT_EVENT_TYPES
from services.settlement.ledger.archive import archive, facts_of
from services.settlement.ledger.tables import facts_table

Database = Session | Connection

_BATCH = 5000
_PAGE = 5000


def encode(fact: Fact) -> str:
    """One fact as its log text (its fact type's row codec)."""
    return BY_FACT[type(fact)].codec.encode(fact)


_DECODERS = {name: fact_type.codec.decode for name, fact_type in BY_NAME.items()}


def decode(text: str) -> Fact:
    row = orjson.loads(text)
    return _DECODERS[row[0]](row)


def append_rows(database: Database, rows: Sequence[dict[str, str | None]]) -> None:
    """Log facts (``row_of`` each) in one statement, in their order."""
    connection = database.connection() if isinstance(database, Session) else database
    if (
        connection.dialect.name == "sqlite"
    ):  # as the driver takes them: SQLAlchemy's per-row handling was most
        connection.exec_driver_sql(_SQLITE_APPEND, [tuple(row.values()) for row in rows])
    else:
        connection.execute(facts_table.insert(), list(rows))


_SQLITE_APPEND = "INSERT INTO settlement_facts (event_id, fact, person, application) VALUES (?, ?, ?, ?)"


def row_of(fact: Fact, person: str | None) -> dict[str, str | None]:
    """A fact's row of the log, with the person it concerns (None: an institution change whose
    application no logged fact names yet)."""
    return {
        "event_id": fact.event_id,
        "fact": encode(fact),
        "person": person,
        "application": getattr(fact, "application", None),
    }


def of_person(database: Database, person: str) -> Iterator[Fact]:  # a Session or a Connection
    """The facts logged about one person, in the order they were fed (the index on person, position)."""
    driver = _sqlite_driver(database)
    if driver is not None:  # one cursor of the driver: SQLAlchemy's statement handling was most of a read
        return decoded(text for (text,) in driver.execute(_SQLITE_OF_PERSON, (person,)))
    query = select(facts_table.c.fact).where(facts_table.c.person == person).order_by(facts_table.c.position)
    return decoded(database.scalars(query))


_SQLITE_OF_PERSON = "SELECT fact FROM settlement_facts WHERE person = ? ORDER BY person, position"


def person_of_application(database: Database, application: str) -> str | None:
    """The person the logged facts of an application name, or None when none does yet."""
    column = facts_table.c
    query = select(column.person).where(column.application == application, column.person.is_not(None))
    return database.scalar(query.limit(1))


def unnamed_applications(database: Database | Engine) -> set[str]:
    """The applications with logged facts that name no person yet (institution changes that came first)."""
    column = facts_table.c
    query = select(column.application).where(column.person.is_(None), column.application.is_not(None))
    if isinstance(database, Engine):
        with database.connect() as connection:
            return set(connection.scalars(query.distinct()))
    return set(database.scalars(query.distinct()))


def name_application(database: Database, application: str, person: str) -> int:
    """Give an application's facts that name no person (institution changes logged first) their person."""
    column = facts_table.c
    statement = (
        update(facts_table)
        .where(column.application == application, column.person.is_(None))
        .values(person=person)
    )
    result: CursorResult[Any] = database.execute(statement)  # type: ignore[assignment]
    return result.rowcount or 0


def name_unnamed(database: Database) -> int:
    """Give the facts that name no person the person of their application's other facts (after the log is
    written again); returns how many rows were named."""
    column, other = facts_table.c, facts_table.alias("named")
    person_of_it = (
        select(other.c.person)
        .where(other.c.application == column.application, other.c.person.is_not(None))
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        update(facts_table)
        .where(column.person.is_(None), column.application.is_not(None))
        .values(person=person_of_it)
    )
    result: CursorResult[Any] = database.execute(statement)  # type: ignore[assignment]
    return result.rowcount or 0


def read(database: Database | Engine, table: Table) -> Iterator[Fact]:
    """Every logged fact in the order the live book was fed, decoded without pydantic, read a page at a
    time (memory holds one page of the log, not the log)."""
    return decoded(pages(database, table))


def pages(database: Database | Engine, table: Table) -> Iterator[str]:
    """The log's rows as stored (JSON text), in feed order, read by position a page at a time."""
    driver = _sqlite_driver(database)
    if driver is not None:
        # One cursor stepped through the table in rowid order, fetched a page at a time, without
        # SQLAlchemy's rows (half of the reading); writes to other tables may interleave.
        cursor = driver.execute(
            f'SELECT "{table.c.fact.name}" FROM "{table.name}" ORDER BY "{table.c.position.name}"'
        )
        while page := cursor.fetchmany(_PAGE):
            for (text,) in page:
                yield text
        return
    after = 0
    while True:
        query = select(table.c.position, table.c.fact).where(table.c.position > after)
        rows = _page(database, query.order_by(table.c.position).limit(_PAGE))
        if not rows:
            return
        for _position, text in rows:
            yield text
        after = rows[-1][0]


def _sqlite_driver(database: Database | Engine) -> sqlite3.Connection | None:
    """The sqlite3 connection under a session's or connection's transaction on SQLite, else None."""
    if isinstance(database, Engine):
        return None
    connection = database.connection() if isinstance(database, Session) else database
    driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    return driver if isinstance(driver, sqlite3.Connection) else None


def _page(database: Database | Engine, query: Select[int, str]) -> Sequence[Row[int, str]]:
    if isinstance(database, Engine):
        with database.connect() as connection:
            return connection.execute(query).all()
    return database.execute(query).all()


def decoded(rows: Iterable[str]) -> Iterator[Fact]:
    """Facts of the log's rows, in their order."""
    decoders, loads = _DECODERS, orjson.loads
    for text in rows:
        row = loads(text)
        yield decoders[row[0]](row)


def rewrite(database: Database, table: Table, facts: Iterable[Fact]) -> int:
    """Replace the log with these facts, in order; returns how many."""
    database.execute(delete(table))
    rows: list[dict[str, str | None]] = []
    count = 0
    for fact in facts:
        rows.append(row_of(fact, getattr(fact, "person", None)))
        if len(rows) == _BATCH:
            count += _insert(database, table, rows)
            rows = []
    count += _insert(database, table, rows)
    name_unnamed(database)
    return count


def _insert(database: Database, table: Table, rows: Sequence[dict[str, str | None]]) -> int:
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


def derive_fact_log(database: Database) -> int:
    """Rewrite the fact log from the archive alone (validating every envelope); returns its length."""
    return rewrite(database, facts_table, facts_of(archive(database, SETTLEMENT_EVENT_TYPES)))


def cover_archive(database: Database) -> None:
    """Derive the fact log from the archive when it does not hold one row per archived settlement event."""
    if not covers_archive(database, facts_table, SETTLEMENT_EVENT_TYPES):
        derive_fact_log(database)


def logged_facts(database: Database) -> Iterator[Fact]:
    """The fact log in feed order, derived from the archive first when it does not cover it."""
    cover_archive(database)
    return read(database, facts_table)
