"""Replay in bounded memory 分人重放: the facts ordered by person in a temporary file, one book per group.

Every payment the book makes due rests on the facts of one person: their surveys and assessments
(the fees), their applications, approvals, refusals and service records (the subsidies, an item's
cap, the support service's 每人每年). So the facts, taken person by person in the order they were
fed, make the same postings in a fresh book per group of persons as in one book over the whole
archive, and a replay holds one group's book, not the history (ADR 0019).

The facts are spilled to a private temporary SQLite file (with the person each concerns; an
institution change names only its application and takes the person of the application's other
facts) and read back sorted by (person, arrival): SQLite's sorter works in bounded memory, spilling
to its own temporary files. Before trusting that order the file is checked: an application or a
delivery whose facts name two persons (never written by the producers, but not impossible in an
archive) would tie two persons together, and then every fact is fed to one book in arrival order,
as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine

from kernel.collector import without_cycle_collection
from kernel.store.store import READ_ONLY
from services.settlement.book.dues import Posting, Unsettled
from services.settlement.book.facts import Fact
from services.settlement.book.policy import PolicySet
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.fact_types import BY_NAME, SETTLEMENT_EVENT_TYPES
from services.settlement.ledger.books import discard, new_book
from services.settlement.ledger.fact_log import covers_archive, encode
from services.settlement.ledger.report import LedgerReport, RunningTotals
from services.settlement.ledger.tables import facts_table

GROUP_FACTS = 20_000
"""Facts a book is fed before the next person starts a fresh one: the memory a replay holds."""

POSTINGS_BATCH = 5_000
"""Postings handed on at once (to be inserted, or folded into totals)."""

_SPILL_BATCH = 5_000

PostingSink = Callable[[list[Posting]], object]
UnsettledSink = Callable[[list[Unsettled]], object]


def _key_indexes(fields: tuple[str, ...]) -> tuple[int, int, int]:
    """Where person, application and delivery sit in a fact's log row (``[name, *fields]``); 0: absent."""
    person, application, delivery = (
        fields.index(name) + 1 if name in fields else 0 for name in ("person", "application", "delivery")
    )
    return person, application, delivery


_KEYS = {name: _key_indexes(fact_type.codec.fields) for name, fact_type in BY_NAME.items()}
_DECODERS = {name: fact_type.codec.decode for name, fact_type in BY_NAME.items()}


@dataclass(frozen=True)
class Settled:
    """What a replay settled: facts fed, facts left unsettled, and whether it went person by person."""

    facts: int
    unsettled: int
    by_person: bool


class PersonOrder:
    """Facts in a temporary table, read back person by person (a context manager: the table goes on exit).

    Without a connection the table is in a private temporary file; given settlement's own SQLite
    connection, it is a temporary table of that connection, which ``add_log`` fills from the fact log
    without a row passing through Python.
    """

    def __init__(self, connection: sqlite3.Connection | None = None) -> None:
        self._shared = connection is not None
        if connection is None:
            # "" opens a private temporary database on disk, deleted when closed; its cache is bounded.
            connection = sqlite3.connect("", isolation_level=None)
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16384"):
                connection.execute(f"PRAGMA {pragma}")
        else:
            connection.execute("PRAGMA temp.cache_size = -16384")  # the temporary table's pages: 16 MB
        self._file = connection
        self._table = "replay_facts" if self._shared else "facts"
        connection.execute(
            f"CREATE {'TEMP ' if self._shared else ''}TABLE {self._table} "
            "(seq INTEGER PRIMARY KEY, person TEXT, application TEXT, delivery TEXT, fact TEXT)"
        )
        if not self._shared:
            connection.execute("BEGIN")
        self.count = 0
        self._unnamed = 0  # facts that name no person (institution changes)

    def __enter__(self) -> PersonOrder:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._shared:
            # The copy's pages freed without zeroing them first (secure_delete FAST, see replay.py): its
            # facts are the fact log's, which stays.
            file = self._file
            before = file.execute("PRAGMA temp.secure_delete").fetchone()[0]
            file.execute("PRAGMA temp.secure_delete = FAST")
            file.execute(f"DROP TABLE IF EXISTS temp.{self._table}")
            file.execute(f"DROP TABLE IF EXISTS temp.{self._table}_applications")
            file.execute(f"PRAGMA temp.secure_delete = {int(before)}")
        else:
            self._file.close()

    def add_log(self, log_table: str, received_before: str | None = None) -> None:
        """Copy the fact log (a table of the shared connection) in feed order, its keys read by SQLite;
        with ``received_before`` (the inbox's stored text of an instant), only the facts of events
        archived before it."""
        copy = (
            # The person and the application as the log names them (ADR 0021); the delivery read by SQLite.
            f"INSERT INTO {self._table} SELECT log.position, log.person, log.application, {_key_of(2)}, "
            f"log.fact FROM {log_table} AS log"
        )
        bound = None if received_before is None else _received_before(self._file, received_before)
        if bound is None:  # every archived event was received before it
            self._file.execute(f"{copy} ORDER BY log.position")
        else:
            where, parameters = bound
            self._file.execute(
                f"{copy} JOIN inbox ON inbox.event_id = log.event_id WHERE {where} ORDER BY log.position",
                parameters,
            )
        self.count, self._unnamed = self._file.execute(
            f"SELECT COUNT(*), COUNT(*) - COUNT(person) FROM {self._table}"
        ).fetchone()

    def add_texts(self, texts: Iterable[str]) -> None:
        """Spill fact-log rows as stored (JSON text), in feed order."""
        loads, keys = orjson.loads, _KEYS
        rows: list[tuple[int, Any, Any, Any, str]] = []
        for text in texts:
            row = loads(text)
            person, application, delivery = keys[row[0]]
            rows.append(
                (
                    self.count,
                    row[person] if person else None,
                    row[application] if application else None,
                    row[delivery] if delivery else None,
                    text,
                )
            )
            self.count += 1
            self._unnamed += not person
            if len(rows) == _SPILL_BATCH:
                self._insert(rows)
                rows = []
        self._insert(rows)

    def add_facts(self, facts: Iterable[Fact]) -> None:
        """Spill facts, in feed order."""
        self.add_texts(encode(fact) for fact in facts)

    def _insert(self, rows: list[tuple[int, Any, Any, Any, str]]) -> None:
        self._file.executemany(f"INSERT INTO {self._table} VALUES (?, ?, ?, ?, ?)", rows)

    def settle(
        self, policies: PolicySet, sink: PostingSink, unsettled: UnsettledSink | None = None
    ) -> Settled:
        """Feed every spilled fact to fresh books, person by person (or to one book, see the module),
        handing their postings to ``sink`` in batches and, given ``unsettled``, what each book leaves
        unsettled when it is done; returns what was settled."""
        # A log no longer than one group is one book's anyway: fed in arrival order, nothing sorted.
        by_person = self.count > GROUP_FACTS and self._order_by_person()
        query = f"SELECT person, fact FROM {self._table} ORDER BY " + ("person, seq" if by_person else "seq")
        rows = self._file.execute(query)
        try:
            book, left = _settle(rows, policies, sink, GROUP_FACTS if by_person else 0, unsettled)
        finally:
            rows.close()  # else a failure mid-read leaves the copy locked and dropping it hides the failure
        last = book.unsettled()
        if unsettled is not None:
            unsettled(last)
        return Settled(self.count, left + len(last), by_person)

    def _order_by_person(self) -> bool:
        """Name the person of institution changes by their application; whether no application or
        delivery belongs to two persons (then person by person gives the same postings).

        One grouping of the facts by application (its lowest and highest person, into a small table
        keyed by application) serves both the check and the naming; deliveries are only grouped."""
        file, table = self._file, self._table
        applications = f"{table}_applications"
        file.execute(
            f"CREATE {'TEMP ' if self._shared else ''}TABLE {applications} "
            "(application TEXT PRIMARY KEY, person TEXT, other TEXT) WITHOUT ROWID"
        )
        file.execute(
            f"INSERT INTO {applications} SELECT application, MIN(person), MAX(person) FROM {table} "
            "WHERE application IS NOT NULL GROUP BY application"
        )
        if file.execute(f"SELECT 1 FROM {applications} WHERE person <> other LIMIT 1").fetchone():
            return False
        if self._unnamed:
            file.execute(
                f"UPDATE {table} SET person = (SELECT named.person FROM {applications} AS named "
                f"WHERE named.application = {table}.application) "
                "WHERE person IS NULL AND application IS NOT NULL"
            )
        shared_delivery = file.execute(
            f"SELECT 1 FROM {table} WHERE delivery IS NOT NULL GROUP BY delivery "
            "HAVING MIN(person) <> MAX(person) LIMIT 1"
        ).fetchone()
        return shared_delivery is None


def _received_before(file: sqlite3.Connection, instant: str) -> tuple[str, tuple[object, ...]] | None:
    """Which inbox rows were received before ``instant`` (the inbox's stored text of it), as a condition
    on ``inbox.position`` and its parameters; None when every one was.

    Each event before the first one received at or after the instant was received before it, and so
    were the later ones the received_at index finds (clocks or writers out of step, seldom): a fact's
    event is then judged by its position alone, which the event_id index holds (no inbox row is read).
    """
    # +position: the received_at index's range, not the primary key's walk (all of it, when none qualifies).
    first_later = file.execute(
        "SELECT MIN(+position) FROM inbox WHERE received_at >= ?", (instant,)
    ).fetchone()[0]
    if first_later is None:
        return None
    straggling = "SELECT position FROM inbox WHERE received_at < ? AND +position > ?"
    if file.execute(f"{straggling} LIMIT 1", (instant, first_later)).fetchone() is None:
        return "inbox.position < ?", (first_later,)
    return f"inbox.position < ? OR inbox.position IN ({straggling})", (first_later, instant, first_later)


def _key_of(column: int) -> str:
    """SQL reading person (0), application (1) or delivery (2) from a fact-log row by its fact type."""
    cases = " ".join(
        f"WHEN '{name}' THEN json_extract(log.fact, '$[{indexes[column]}]')"
        for name, indexes in _KEYS.items()
        if indexes[column]
    )
    return f"CASE json_extract(log.fact, '$[0]') {cases} END"


def _settle(
    rows: Iterable[tuple[str | None, str]],
    policies: PolicySet,
    sink: PostingSink,
    group: int,
    left: UnsettledSink | None = None,
) -> tuple[SettlementBook, int]:
    """Feed the rows' facts in their order; a fresh book when the person changes after ``group`` facts
    (never, when ``group`` is 0), the unsettled items of each book done handed to ``left``. Returns the last
    book and how many facts the earlier ones left unsettled."""
    loads, decoders = orjson.loads, _DECODERS
    book, fed, unsettled = new_book(policies), 0, 0
    person: str | None = None
    batch: list[Posting] = []
    with without_cycle_collection():
        for who, text in rows:
            if group and fed >= group and who != person:
                done = book.unsettled()
                unsettled += len(done)
                if left is not None:
                    left(done)
                discard(book)  # freed now: the collector is paused
                book, fed = new_book(policies), 0
            person = who
            row = loads(text)
            batch += book.feed(decoders[row[0]](row))
            fed += 1
            if len(batch) >= POSTINGS_BATCH:
                sink(batch)
                batch = []
    if batch:
        sink(batch)
    return book, unsettled


def settle_by_person(facts: Iterable[Fact], policies: PolicySet, sink: PostingSink) -> Settled:
    """Settle facts (in feed order) person by person, handing postings to ``sink``."""
    with PersonOrder() as order:
        order.add_facts(facts)
        return order.settle(policies, sink)


def fold_facts(facts: Iterable[Fact], policies: PolicySet) -> tuple[Settled, LedgerReport]:
    """Settle facts (in feed order) person by person and fold their postings into totals as they come:
    a replay for a report (as of a date, under another policy) holds one group's book, not the ledger."""
    totals = RunningTotals()
    add = totals.add

    def fold(postings: list[Posting]) -> None:
        for posting in postings:
            add(posting)

    return settle_by_person(facts, policies, fold), totals.report()


def fold_log(
    engine: Engine, policies: PolicySet, received_before: datetime | None = None
) -> tuple[int, Settled, LedgerReport] | None:
    """``fold_facts`` over the fact log instead of the archive's envelopes (the same facts, validated
    once when consumed), with only the events archived before ``received_before``; and how many
    archived events that is. None when the store is not SQLite or the log does not cover the archive
    (then the caller reads the archive: this reads, never derives the log)."""
    if engine.dialect.name != "sqlite":
        return None
    # A read transaction (DEFERRED): consumers keep writing meanwhile; the temporary table is not the store's.
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        if not covers_archive(connection, facts_table, SETTLEMENT_EVENT_TYPES):
            return None
        sqlite = connection.connection.driver_connection
        assert isinstance(sqlite, sqlite3.Connection)
        bound = None if received_before is None else _stored_instant(received_before)
        counted = "SELECT COUNT(*) FROM inbox" + ("" if bound is None else " WHERE received_at < ?")
        events = sqlite.execute(counted, () if bound is None else (bound,)).fetchone()[0]
        totals = RunningTotals()
        add = totals.add

        def fold(postings: list[Posting]) -> None:
            for posting in postings:
                add(posting)

        with PersonOrder(sqlite) as order, without_cycle_collection():
            order.add_log(facts_table.name, bound)
            settled = order.settle(policies, fold)
    return events, settled, totals.report()


def _stored_instant(moment: datetime) -> str:
    # The kernel's UTC times as SQLAlchemy stores them on SQLite: naive, to the microsecond.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
