"""Replay 重放: drop the ledger and rebuild it from the fact log (or the archive alone) in one transaction.

The rebuilt ledger is written in batches as the book makes it due, and the facts are settled person by
person (person_order.py), so a replay's memory does not grow with the history (ADR 0019). What the books
leave unsettled is written again with it (ADR 0021).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Literal

from sqlalchemy import Connection, Engine, inspect, text

from kernel.collector import without_cycle_collection
from kernel.store.store import metadata as kernel_metadata
from services.settlement.book.dues import Posting, Unsettled
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.deployment import settled_jurisdiction
from services.settlement.fact_types import SETTLEMENT_EVENT_TYPES
from services.settlement.ledger import fact_log, unsettled
from services.settlement.ledger.fact_log import covers_archive, derive_fact_log
from services.settlement.ledger.jurisdiction_check import refuse_another_jurisdiction
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.person_order import PersonOrder
from services.settlement.ledger.posting_rows import insert_postings
from services.settlement.ledger.report import LedgerReport, ledger_report
from services.settlement.ledger.tables import LEDGER_TABLES, facts_table, metadata

Source = Literal["log", "archive"]


def rebuild_ledger(
    engine: Engine,
    policies: PolicySet | None = None,
    live: LiveLedger | None = None,
    source: Source = "log",
) -> LedgerReport:
    """Drop and recreate the ledger tables and post every settlement fact again, and write again what the
    books leave unsettled.

    ``source="log"`` reads the fact log (derived from the archive first when it does not cover
    it); ``"archive"`` derives the log again from the archive alone, validating every envelope.
    Runs in one transaction that first stops consumers from archiving (so no event slips between
    the replay and the live books), then holds the live books' lock and drops them: each is built again
    from the log when its person's next fact comes. A ledger settled for another jurisdiction than the
    deployment's pack is left as it is (``LedgerOfAnotherJurisdiction``, 409).
    """
    policies = policies if policies is not None else load_policies()
    with engine.begin() as connection:
        _hold_archive(connection)
        refuse_another_jurisdiction(connection, policies, settled_jurisdiction())
        with live.holds() if live is not None else nullcontext():
            if source == "archive" or not covers_archive(connection, facts_table, SETTLEMENT_EVENT_TYPES):
                derive_fact_log(connection)
            with without_cycle_collection():
                _replay_by_person(connection, policies)
            with _roomy_cache(connection):  # only for the index builds: the sort and load are bounded apart
                for index in _INDEXES:
                    index.create(connection)
            if live is not None:
                live.forget()
            return ledger_report(connection)


def _replay_by_person(connection: Connection, policies: PolicySet) -> None:
    """The fact log copied in person order, then each batch of postings inserted as the books make it due,
    and each book's unsettled items written as it is done.

    On SQLite the copy is a temporary table of the same connection, filled by SQLite alone; elsewhere a
    private temporary file, filled row by row while the old ledger is dropped in another thread."""
    left = unsettled.Rewrite(connection)
    sqlite = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if isinstance(sqlite, sqlite3.Connection):
        _recreate_ledger(connection)
        with PersonOrder(sqlite) as order:
            order.add_log(facts_table.name)
            order.settle(policies, lambda postings: insert_postings(connection, postings), left.add)
        left.finish()
        return
    with PersonOrder() as order:
        order.add_texts(fact_log.pages(connection, facts_table))
        with _meanwhile(lambda: _recreate_ledger(connection)) as recreated:

            def insert(postings: list[Posting]) -> None:
                recreated()
                insert_postings(connection, postings)

            order.settle(policies, insert, left.add)
    left.finish()


def build_unsettled(engine: Engine, policies: PolicySet) -> int:
    """Write what the books leave unsettled from the fact log alone, the postings untouched (a store upgraded
    from a release that kept it in memory); returns how many items."""
    count = 0
    with engine.begin() as connection:
        left = unsettled.Rewrite(connection)

        def add(items: list[Unsettled]) -> None:
            nonlocal count
            count += len(items)
            left.add(items)

        with PersonOrder() as order, without_cycle_collection():
            order.add_texts(fact_log.pages(connection, facts_table))
            order.settle(policies, lambda _postings: None, add)
        left.finish()
    return count


_INDEXES = [index for table in LEDGER_TABLES for index in table.indexes]


def _recreate_ledger(connection: Connection) -> None:
    """Empty ledger tables without their indexes: bulk load, then index (each index built once, sorted)."""
    _drop_stored_journal_lines(connection)
    with _freed_pages_kept(connection):
        metadata.drop_all(connection, tables=list(LEDGER_TABLES))
    metadata.create_all(connection, tables=list(LEDGER_TABLES))
    for index in _INDEXES:
        index.drop(connection)


@contextmanager
def _meanwhile(task: Callable[[], None]) -> Iterator[Callable[[], None]]:
    """Run ``task`` in a thread while the block runs; the block gets a function that waits for it
    (raising its error), called before the block uses what the task uses (here: the connection the
    task drops tables with). Leaving the block waits for it too."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            task()
        except BaseException as error:  # handed to the caller's thread below
            errors.append(error)

    thread = threading.Thread(target=run, name="ledger-recreate", daemon=True)
    thread.start()

    def finished() -> None:
        thread.join()
        if errors:
            raise errors[0]

    try:
        yield finished
    finally:
        thread.join()
    finished()


@contextmanager
def _freed_pages_kept(connection: Connection) -> Iterator[None]:
    """On SQLite, the old ledger's pages freed without being overwritten with zeros first.

    Debian's SQLite zeroes every freed page by default (``secure_delete``), which made dropping the
    old ledger write it out once more (1-2 s of a 200k-event replay). ``FAST`` still zeroes deleted
    cells within pages it writes anyway; freed pages keep their bytes until reused, and the new
    ledger, written next in the same transaction, reuses them first. The ledger holds no sealed
    personal data (ADR 0007: the keys are survey's, written with ``secure_delete`` on); its postings
    are rebuilt from the fact log, which holds the same facts.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA main.secure_delete").scalar()
    connection.exec_driver_sql("PRAGMA main.secure_delete = FAST")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA main.secure_delete = {int(before or 0)}")


@contextmanager
def _roomy_cache(connection: Connection) -> Iterator[None]:
    """On SQLite, a 64 MB page cache while the ledger's indexes are built (the default 2 MB spills)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _hold_archive(connection: Connection) -> None:
    # Take the write lock consumers need before they take the live book's lock, never after.
    kernel_metadata.create_all(connection)
    metadata.create_all(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE inbox IN SHARE ROW EXCLUSIVE MODE"))
    elif connection.dialect.name == "sqlite":
        # The store's engines begin IMMEDIATE, holding the write lock from the start; on any other
        # SQLite engine, a write takes it now (the ledger's DROP comes later, under the book's lock).
        connection.exec_driver_sql("DELETE FROM settlement_facts WHERE 0")


def stored_before_journal_view(engine: Engine) -> bool:
    """Whether the ledger was written before ADR 0009 (journal lines stored as a table): replay it."""
    with engine.connect() as connection:
        return _stores_journal_lines(connection)


def _drop_stored_journal_lines(connection: Connection) -> None:
    """Ledgers written before ADR 0009 stored journal lines as a table: the replay drops it for the view."""
    if _stores_journal_lines(connection):
        connection.exec_driver_sql("DROP TABLE journal_lines")


def _stores_journal_lines(connection: Connection) -> bool:
    return "journal_lines" in inspect(connection).get_table_names()  # a table, not the view
