"""Replay 重放: rebuild the ledger from the archive; the ledger's totals as a report and a stable text."""

from __future__ import annotations

import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine, Select, func, inspect, or_, select, text

from kernel.store.store import metadata as kernel_metadata
from services.settlement import fact_log
from services.settlement.domain import SettlementBook
from services.settlement.ledger import (
    LEDGER_TABLES,
    LiveLedger,
    derive_fact_log,
    facts_table,
    feed_facts,
    insert_postings,
    logged_facts,
    metadata,
    postings_table,
    without_cycle_collection,
)
from services.settlement.policy import PolicySet, load_policies


@dataclass(frozen=True)
class AccountTotals:
    """Debits and credits of one account; balance = debits - credits (fund positive, payees negative)."""

    account: str
    debit_fen: int
    credit_fen: int

    @property
    def balance_fen(self) -> int:
        return self.debit_fen - self.credit_fen


@dataclass(frozen=True)
class LedgerReport:
    """The ledger's totals: per account, in total, and whether every posting balances."""

    accounts: tuple[AccountTotals, ...]
    total_debit_fen: int
    total_credit_fen: int
    posting_count: int
    unbalanced_postings: int

    @property
    def balanced(self) -> bool:
        return self.total_debit_fen == self.total_credit_fen and self.unbalanced_postings == 0


Source = Literal["log", "archive"]


def rebuild_ledger(
    engine: Engine,
    policies: PolicySet | None = None,
    live: LiveLedger | None = None,
    source: Source = "log",
) -> LedgerReport:
    """Drop and recreate the ledger tables and post every settlement fact again, in feed order.

    ``source="log"`` reads the fact log (derived from the archive first when it does not cover
    it); ``"archive"`` derives the log again from the archive alone, validating every envelope.
    Runs in one transaction that first stops consumers from archiving (so no event slips between
    the replay and the swap of the live book), then takes the live book's lock.
    """
    policies = policies if policies is not None else load_policies()
    try:
        with engine.begin() as connection:
            _hold_archive(connection)
            if source == "archive":
                derive_fact_log(connection)
                facts = fact_log.read(connection, facts_table)  # read now, decoded as the book takes them
            else:
                facts = logged_facts(connection)  # the log, derived first when it does not cover the archive

            def build() -> SettlementBook:
                # The old ledger is dropped (in C, without the GIL) while the book settles the facts.
                with _meanwhile(lambda: _recreate_ledger(connection)):
                    book, postings = feed_facts(facts, policies)
                insert_postings(connection, postings)
                for index in _INDEXES:
                    index.create(connection)
                return book

            with _roomy_cache(connection), without_cycle_collection():
                if live is None:
                    build()
                else:
                    live.replace(build)
                return ledger_report(connection)
    except Exception:
        if live is not None:
            live.mark_stale()
        raise


_INDEXES = [index for table in LEDGER_TABLES for index in table.indexes]


def _recreate_ledger(connection: Connection) -> None:
    """Empty ledger tables without their indexes: bulk load, then index (each index built once, sorted)."""
    _drop_stored_journal_lines(connection)
    metadata.drop_all(connection, tables=list(LEDGER_TABLES))
    metadata.create_all(connection, tables=list(LEDGER_TABLES))
    for index in _INDEXES:
        index.drop(connection)


@contextmanager
def _meanwhile(task: Callable[[], None]) -> Iterator[None]:
    """Run ``task`` in a thread while the block runs; wait for it, then raise its error if it failed.

    The block must not use what the task uses (here: the connection the task drops tables with).
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            task()
        except BaseException as error:  # handed to the caller's thread below
            errors.append(error)

    thread = threading.Thread(target=run, name="ledger-recreate", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if errors:
        raise errors[0]


@contextmanager
def _roomy_cache(connection: Connection) -> Iterator[None]:
    """On SQLite, a 64 MB page cache while the ledger is loaded and indexed (the default 2 MB spills)."""
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


def ledger_report(database: Engine | Connection) -> LedgerReport:
    """Totals per account (sorted), grand totals and the balance checks.

    One pass over the postings grouped by (debit account, credit account), folded into the accounts:
    the same sums as the journal lines grouped by account and side, at half the reading.
    """
    postings = postings_table.c
    pair = (postings.debit_account, postings.credit_account)
    sums = select(*pair, func.sum(postings.amount_fen), func.count()).group_by(*pair)
    with _connected(database) as connection:
        pairs = connection.execute(sums).all()
        unbalanced = connection.scalar(_unbalanced_postings()) or 0
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for debit_account, credit_account, amount, _count in pairs:
        debits[debit_account] += int(amount)
        credits[credit_account] += int(amount)
    accounts = tuple(
        AccountTotals(account, debits.get(account, 0), credits.get(account, 0))
        for account in sorted(debits.keys() | credits.keys())
    )
    return LedgerReport(
        accounts=accounts,
        total_debit_fen=sum(debits.values()),
        total_credit_fen=sum(credits.values()),
        posting_count=sum(count for *_pair, count in pairs),
        unbalanced_postings=unbalanced,
    )


@contextmanager
def _connected(database: Engine | Connection) -> Iterator[Connection]:
    if isinstance(database, Connection):
        yield database
        return
    with database.connect() as connection:
        yield connection


def _unbalanced_postings() -> Select[tuple[int]]:
    """Postings that do not move a positive amount between two accounts.

    The schema's checks forbid them (each posting is one amount, debited once and credited once, so
    it balances by construction): a count above zero means the ledger was written around them.
    """
    postings = postings_table.c
    return select(func.count()).where(
        or_(postings.amount_fen <= 0, postings.debit_account == postings.credit_account)
    )


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals, e.g. 23000 -> '230.00' (no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def render(report: LedgerReport) -> str:
    """A stable text of the report: the same ledger always renders to the same bytes."""
    width = max([len("account"), len("total"), *(display_width(t.account) for t in report.accounts)])

    def row(name: str, *amounts: str) -> str:
        return _left(name, width) + "".join(f"  {amount:>14}" for amount in amounts)

    header = row("account", "debit", "credit", "balance")
    rows = [
        row(totals.account, yuan(totals.debit_fen), yuan(totals.credit_fen), yuan(totals.balance_fen))
        for totals in report.accounts
    ]
    difference = report.total_debit_fen - report.total_credit_fen
    total = row("total", yuan(report.total_debit_fen), yuan(report.total_credit_fen), yuan(difference))
    rule = "-" * len(header)
    lines = [
        "settlement ledger (amounts in yuan)",
        f"postings: {report.posting_count}",
        "",
        header,
        rule,
        *rows,
        rule,
        total,
        "",
        f"balanced: {'yes' if report.balanced else 'NO'}",
        f"unbalanced postings: {report.unbalanced_postings}",
    ]
    return "\n".join(lines) + "\n"


def render_table(header: tuple[str, ...], rows: list[tuple[str, ...]], total: tuple[str, ...]) -> list[str]:
    """Lines of a table: a name column padded to its display width, amounts right-aligned."""
    width = max(display_width(line[0]) for line in [header, *rows, total])

    def row(name: str, *amounts: str) -> str:
        return _left(name, width) + "".join(f"  {amount:>14}" for amount in amounts)

    rule = "-" * len(row(*header))
    return [row(*header), rule, *(row(*line) for line in rows), rule, row(*total)]


def display_width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters (street names) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _left(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
