"""Read queries of the stored ledger: postings by account or rule, one posting, its journal lines."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Engine, func, select

from services.settlement.book.dues import Posting
from services.settlement.ledger.posting_rows import posting_of
from services.settlement.ledger.tables import journal_lines_table, postings_table


def find_postings(
    engine: Engine,
    *,
    account: str | None = None,
    rule: str | None = None,
    limit: int = 100,
    offset: int = 0,
    within: Sequence[str] | None = None,
) -> tuple[int, list[Posting]]:
    """Postings touching an account (or any account ``within``) and/or of a rule, by business date then
    key; and how many match."""
    query = select(postings_table)
    for accounts in ([account] if account is not None else None, within):
        if accounts is not None:
            query = query.where(
                postings_table.c.debit_account.in_(accounts) | postings_table.c.credit_account.in_(accounts)
            )
    if rule is not None:
        query = query.where(postings_table.c.rule == rule)
    page = query.order_by(postings_table.c.business_date, postings_table.c.key).limit(limit).offset(offset)
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(query.subquery())) or 0
        return total, [posting_of(row) for row in connection.execute(page)]


def find_posting(engine: Engine, posting_id: UUID) -> Posting | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(postings_table).where(postings_table.c.posting_id == str(posting_id))
        ).first()
    return None if row is None else posting_of(row)


def journal_lines_of(engine: Engine, posting_id: UUID) -> list[tuple[str, str, int]]:
    """(side, account, amount_fen) of a posting's lines, debit first."""
    query = (
        select(journal_lines_table.c.side, journal_lines_table.c.account, journal_lines_table.c.amount_fen)
        .where(journal_lines_table.c.posting_id == str(posting_id))
        .order_by(journal_lines_table.c.side.desc())
    )
    with engine.connect() as connection:
        return [(side, account, amount) for side, account, amount in connection.execute(query)]
