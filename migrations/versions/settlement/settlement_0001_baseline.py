"""Settlement's own tables: the postings with the journal-lines view over them, and the fact log.

Each table and index is created only if missing, so a store the last release without migrations
created (with ``create_all``) is adopted as it is; an empty database gets them all.

Revision ID: settlement_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "settlement_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("settlement",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("posting_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("debit_account", sa.String(length=200), nullable=False),
        sa.Column("credit_account", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column(
            "source_event_ids", sa.Text(), nullable=False, comment="JSON list of the events that made it due"
        ),
        sa.Column("inputs", sa.Text(), nullable=False, comment="JSON object of the values the rule used"),
        sa.CheckConstraint("amount_fen > 0", name="ck_postings_amount_positive"),
        sa.CheckConstraint("debit_account <> credit_account", name="ck_postings_two_accounts"),
        if_not_exists=True,
    )
    op.create_index("ix_postings_credit_account", "postings", ["credit_account"], if_not_exists=True)
    op.create_index("ix_postings_debit_account", "postings", ["debit_account"], if_not_exists=True)
    op.create_index("ux_postings_posting_id", "postings", ["posting_id"], unique=True, if_not_exists=True)
    _journal_lines_view()
    op.create_table(
        "settlement_facts",
        sa.Column("position", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column(
            "fact", sa.Text(), nullable=False, comment="JSON array: the fact type's name, then its fields"
        ),
        sa.PrimaryKeyConstraint("position"),
        sqlite_autoincrement=True,
        if_not_exists=True,
    )


JOURNAL_LINES_VIEW = """\
CREATE VIEW journal_lines (posting_id, side, account, amount_fen) AS
SELECT posting_id, 'debit', debit_account, amount_fen FROM postings
UNION ALL
SELECT posting_id, 'credit', credit_account, amount_fen FROM postings"""


def _journal_lines_view() -> None:
    """The journal lines are a view over the postings (ADR 0009). A ledger written before that stored
    them as a table: it is left to settlement, which replays such a ledger at start-up."""
    inspector = sa.inspect(op.get_bind())
    if "journal_lines" not in {*inspector.get_table_names(), *inspector.get_view_names()}:
        op.execute(JOURNAL_LINES_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS journal_lines")
    for table in ("settlement_facts", "postings"):
        op.drop_table(table)
