"""The year's spending from the ledger, net of claw-backs: by rule 经费类别, by fund 资金来源 and by level of
government 资金层级. One grouped read of the postings, so a dashboard never pages through all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine, func, select

from services.settlement.book.adjustments import base_rule
from services.settlement.book.policy import PolicySet
from services.settlement.ledger.tables import postings_table

FUND = "fund:"
K = TypeVar("K")


@dataclass(frozen=True)
class RuleFund:
    """What one fund paid under one rule in the year, net: payments in, claw-backs 追回 out."""

    rule: str
    fund: str
    fen: int


@dataclass(frozen=True)
class FundOfPolicy:
    """A fund as the policies name it and the level of government it belongs to (None: no policy names it)."""

    account: str
    name: str
    level: str | None


@dataclass(frozen=True)
class Spending:
    year: int
    flows: tuple[RuleFund, ...]
    funds: tuple[FundOfPolicy, ...]

    def by_rule(self) -> dict[str, int]:
        return _sums((flow.rule, flow.fen) for flow in self.flows)

    def by_fund(self) -> dict[str, int]:
        return _sums((flow.fund, flow.fen) for flow in self.flows)

    def by_level(self) -> dict[str | None, int]:
        levels = {fund.account: fund.level for fund in self.funds}
        return _sums((levels.get(flow.fund), flow.fen) for flow in self.flows)

    @property
    def total_fen(self) -> int:
        return sum(flow.fen for flow in self.flows)


def _sums(pairs: Iterable[tuple[K, int]]) -> dict[K, int]:
    found: dict[K, int] = {}
    for key, fen in pairs:
        found[key] = found.get(key, 0) + fen
    return found


def year_spending(
    engine: Engine, year: int, policies: PolicySet, within: Sequence[str] | None = None
) -> Spending:
    """Postings of the year by business date, summed per rule and fund in the database. ``within``: only
    postings debiting or crediting those accounts (a street's or an institution's own)."""
    table = postings_table
    query = (
        select(table.c.rule, table.c.debit_account, table.c.credit_account, func.sum(table.c.amount_fen))
        .where(table.c.business_date.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(table.c.rule, table.c.debit_account, table.c.credit_account)
    )
    if within is not None:
        query = query.where(table.c.debit_account.in_(within) | table.c.credit_account.in_(within))
    net: dict[tuple[str, str], int] = {}
    with engine.connect() as connection:
        for rule, debit, credit, amount in connection.execute(query):
            flow = _flow(base_rule(rule), debit, credit, int(amount))
            if flow is not None:
                net[flow[0]] = net.get(flow[0], 0) + flow[1]
    flows = tuple(RuleFund(rule, fund, fen) for (rule, fund), fen in sorted(net.items()))
    return Spending(year, flows, _funds({flow.fund for flow in flows}, policies))


def _flow(rule: str, debit: str, credit: str, fen: int) -> tuple[tuple[str, str], int] | None:
    """A payment debits the fund; a claw-back credits it (the payee pays back): it counts out."""
    if debit.startswith(FUND):
        return (rule, debit), fen
    if credit.startswith(FUND):
        return (rule, credit), -fen
    return None


def _funds(accounts: set[str], policies: PolicySet) -> tuple[FundOfPolicy, ...]:
    """The funds' names and levels from the policies (the last policy naming an account wins)."""
    named = {
        source.account: FundOfPolicy(source.account, source.name, source.level)
        for policy in policies
        for source in policy.funding.sources.values()
    }
    return tuple(named.get(account, FundOfPolicy(account, account, None)) for account in sorted(accounts))
