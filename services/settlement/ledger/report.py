"""The ledger's totals 账户汇总 per account and in total (stored or in memory), and their stable text."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Select, func, or_, select

from services.settlement.book.dues import Posting
from services.settlement.ledger.tables import postings_table


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


def ledger_report(database: Engine | Connection) -> LedgerReport:
    """Totals per account (sorted), grand totals and the balance checks.

    One pass over the postings grouped by (debit account, credit account), folded into the accounts:
    the same sums as the journal lines grouped by account and side, at half the reading.
    """
    postings = postings_table.c
    pair = (postings.debit_account, postings.credit_account)
    sums = select(*pair, *_exact_sum(postings.amount_fen), func.count()).group_by(*pair)
    with _connected(database) as connection:
        pairs = connection.execute(sums).all()
        unbalanced = connection.scalar(_unbalanced_postings()) or 0
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for debit_account, credit_account, high, low, _count in pairs:
        amount = int(high) * _HALF + int(low)
        debits[debit_account] += amount
        credits[credit_account] += amount
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


_HALF = 2**32


def _exact_sum(amount: ColumnElement[int]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """SUM of a 64-bit amount that cannot overflow (issue 14, defect 3): the high and the low 32 bits of
    each amount summed apart, joined in Python as ``high * 2**32 + low``.

    SQLite's SUM fails with "integer overflow" past 2**63 (two stored amounts of 5 x 10^18 made every
    `GET /ledger` a 500); each half is below 2**31, so the halves' sums stay exact for up to 2**32
    postings. Amounts are positive (the postings' check), where both databases' integer division and
    remainder give the same halves. PostgreSQL's SUM of a bigint would not overflow; the same query
    keeps the two databases' totals identical.
    """
    return func.sum(amount // _HALF), func.sum(amount % _HALF)


@contextmanager
def _connected(database: Engine | Connection) -> Iterator[Connection]:
    if isinstance(database, Connection):
        yield database
        return
    with database.connect() as connection:
        yield connection


def _unbalanced_postings() -> Select[int]:
    """Postings that do not move a positive amount between two accounts.

    The schema's checks forbid them (each posting is one amount, debited once and credited once, so
    it balances by construction): a count above zero means the ledger was written around them.
    """
    postings = postings_table.c
    return select(func.count()).where(
        or_(postings.amount_fen <= 0, postings.debit_account == postings.credit_account)
    )


def report_of(postings: Iterable[Posting]) -> LedgerReport:
    """Totals of postings held in memory, as ``ledger_report`` gives them for the stored ledger."""
    totals = RunningTotals()
    for posting in postings:
        totals.add(posting)
    return totals.report()


class RunningTotals:
    """Totals folded one posting at a time, so a replay in memory need not keep its postings."""

    def __init__(self) -> None:
        self._debits: dict[str, int] = {}
        self._credits: dict[str, int] = {}
        self._count = 0
        self._unbalanced = 0

    def add(self, posting: Posting) -> None:
        debits, credits = self._debits, self._credits
        debits[posting.debit_account] = debits.get(posting.debit_account, 0) + posting.amount_fen
        credits[posting.credit_account] = credits.get(posting.credit_account, 0) + posting.amount_fen
        self._count += 1
        self._unbalanced += posting.amount_fen <= 0

    def report(self) -> LedgerReport:
        debits, credits = self._debits, self._credits
        accounts = tuple(
            AccountTotals(account, debits.get(account, 0), credits.get(account, 0))
            for account in sorted(debits.keys() | credits.keys())
        )
        return LedgerReport(
            accounts=accounts,
            total_debit_fen=sum(debits.values()),
            total_credit_fen=sum(credits.values()),
            posting_count=self._count,
            unbalanced_postings=self._unbalanced,
        )


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals, e.g. 23000 -> '230.00' (no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def render(report: LedgerReport) -> str:
    """A stable text of the report in Chinese: the same ledger always renders to the same bytes."""
    header = ("账户", "借方", "贷方", "余额")
    rows = [
        (totals.account, yuan(totals.debit_fen), yuan(totals.credit_fen), yuan(totals.balance_fen))
        for totals in report.accounts
    ]
    difference = report.total_debit_fen - report.total_credit_fen
    total = ("合计", yuan(report.total_debit_fen), yuan(report.total_credit_fen), yuan(difference))
    lines = [
        "结算台账（金额单位：元）",
        f"记账笔数：{report.posting_count}",
        "",
        *render_table(header, rows, total),
        "",
        f"借贷平衡：{'是' if report.balanced else '否'}",
        f"不平衡的记账：{report.unbalanced_postings}",
    ]
    return "\n".join(lines) + "\n"


def render_table(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], total: tuple[str, ...]
) -> list[str]:
    """Lines of a table: a name column padded to its display width, amounts right-aligned."""
    width = max(display_width(line[0]) for line in [header, *rows, total])

    def row(name: str, *amounts: str) -> str:
        return _left(name, width) + "".join(f"  {_right(amount, 14)}" for amount in amounts)

    rule = "-" * display_width(row(*header))
    return [row(*header), rule, *(row(*line) for line in rows), rule, row(*total)]


def display_width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters (street names) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _left(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _right(text: str, width: int) -> str:
    return " " * (width - display_width(text)) + text
