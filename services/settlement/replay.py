"""Replay 重放: rebuild the ledger from the archive; the ledger's totals as a report and a stable text."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine, Select, case, func, or_, select, text

from services.eventing.store import metadata as kernel_metadata
from services.settlement.domain import SettlementBook
from services.settlement.ledger import (
    LEDGER_TABLES,
    LiveLedger,
    derive_fact_log,
    feed_facts,
    insert_postings,
    journal_lines_table,
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
            metadata.drop_all(connection, tables=list(LEDGER_TABLES))
            metadata.create_all(connection, tables=list(LEDGER_TABLES))
            if source == "archive":
                derive_fact_log(connection)

            def build() -> SettlementBook:
                book, postings = feed_facts(logged_facts(connection), policies)
                # Bulk load, then index: the same indexes, built once instead of row by row.
                indexes = [index for table in LEDGER_TABLES for index in table.indexes]
                for index in indexes:
                    index.drop(connection)
                insert_postings(connection, postings)
                for index in indexes:
                    index.create(connection)
                return book

            with _roomy_cache(connection), without_cycle_collection():
                if live is None:
                    build()
                else:
                    live.replace(build)
    except Exception:
        if live is not None:
            live.mark_stale()
        raise
    return ledger_report(engine)


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
    # On SQLite the store's transactions begin IMMEDIATE, holding the write lock from the start (and
    # on any other SQLite engine the DROP that follows takes it, still before the live book's lock).


def ledger_report(engine: Engine) -> LedgerReport:
    """Totals per account (sorted), grand totals and the balance checks."""
    lines = journal_lines_table
    with engine.connect() as connection:
        sums = connection.execute(
            select(lines.c.account, lines.c.side, func.sum(lines.c.amount_fen))
            .group_by(lines.c.account, lines.c.side)
        ).all()
        posting_count = connection.scalar(select(func.count()).select_from(postings_table)) or 0
        unbalanced_query = select(func.count()).select_from(_unbalanced_postings().subquery())
        unbalanced = connection.scalar(unbalanced_query) or 0
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    for account, side, amount in sums:
        (debits if side == "debit" else credits)[account] = int(amount)
    accounts = tuple(
        AccountTotals(account, debits.get(account, 0), credits.get(account, 0))
        for account in sorted(debits.keys() | credits.keys())
    )
    return LedgerReport(
        accounts=accounts,
        total_debit_fen=sum(debits.values()),
        total_credit_fen=sum(credits.values()),
        posting_count=posting_count,
        unbalanced_postings=unbalanced,
    )


def _unbalanced_postings() -> Select[tuple[str]]:
    """Postings without exactly one debit and one credit line of equal amounts."""
    lines = journal_lines_table
    signed = case((lines.c.side == "debit", lines.c.amount_fen), else_=-lines.c.amount_fen)
    joined = postings_table.outerjoin(lines, lines.c.posting_id == postings_table.c.posting_id)
    return (
        select(postings_table.c.posting_id)
        .select_from(joined)
        .group_by(postings_table.c.posting_id)
        .having(or_(func.count(lines.c.posting_id) != 2, func.coalesce(func.sum(signed), 0) != 0))
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
