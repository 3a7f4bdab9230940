"""The ledger's tables 账表: postings, the journal-lines view over them, and the fact log.

The ledger is a projection of the archive (the kernel's inbox): the postings can be dropped and
rebuilt by replay at any time. The journal lines are a view over the postings (ADR 0009); the fact
log (``settlement_facts``, see fact_log) is what the live book was fed, in order.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

metadata = MetaData()
"""Settlement's own tables, created next to the kernel's."""

postings_table = Table(
    "postings",
    metadata,
    Column("posting_id", String(36), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("key", String(300), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("debit_account", String(200), nullable=False),
    Column("credit_account", String(200), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("source_event_ids", Text, nullable=False, comment="JSON list of the events that made it due"),
    Column("inputs", Text, nullable=False, comment="JSON object of the values the rule used"),
    CheckConstraint("amount_fen > 0", name="ck_postings_amount_positive"),
    CheckConstraint("debit_account <> credit_account", name="ck_postings_two_accounts"),
    # The id is a unique index rather than a primary key so that a replay can load the rows first
    # and build each index once, sorted (ADR 0009). The id is uuid5 of the key: one posting per key.
    Index("ux_postings_posting_id", "posting_id", unique=True),
    Index("ix_postings_debit_account", "debit_account"),
    Index("ix_postings_credit_account", "credit_account"),
)

journal_lines_table = Table(
    "journal_lines",
    MetaData(),  # a view, created with the postings table: never created or dropped as a table
    Column("posting_id", String(36)),
    Column("side", String(6)),
    Column("account", String(200)),
    Column("amount_fen", BigInteger),
)
"""The journal lines 分录 of every posting: its debit line and its credit line, of the same amount.

A view over the postings (ADR 0009): each posting moves one amount from one account to another, so
its two lines are derived, never stored twice, and every posting balances by construction.
"""

_JOURNAL_LINES_VIEW = """\
CREATE VIEW journal_lines (posting_id, side, account, amount_fen) AS
SELECT posting_id, 'debit', debit_account, amount_fen FROM postings
UNION ALL
SELECT posting_id, 'credit', credit_account, amount_fen FROM postings"""

event.listen(postings_table, "after_create", DDL(_JOURNAL_LINES_VIEW))
event.listen(postings_table, "before_drop", DDL("DROP VIEW IF EXISTS journal_lines"))

facts_table = Table(
    "settlement_facts",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("fact", Text, nullable=False, comment="JSON array: the fact type's name, then its fields"),
    Column("person", String(36), comment="whom the fact concerns (an institution change: its application's)"),
    Column("application", String(36), comment="the application the fact names, if any"),
    Index("ix_settlement_facts_person", "person", "position"),
    Index("ix_settlement_facts_application", "application"),
    sqlite_autoincrement=True,
)
"""The fact log: what the live book was fed, in order (see fact_log), with the person each fact concerns, so
that one person's facts are read alone (the live ledger keeps the books of recent persons: ADR 0021)."""

unsettled_table = Table(
    "settlement_unsettled",
    metadata,
    Column("person", String(36), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source_event_ids", Text, nullable=False, comment="JSON list of the events it rests on"),
    Index("ix_settlement_unsettled_person", "person"),
    Index("ix_settlement_unsettled_subject", "subject"),
)
"""What the books leave unsettled, and why: each person's, as their book last said (ADR 0021)."""

projections_table = Table(
    "settlement_projections",
    metadata,
    Column("name", String(40), primary_key=True),
)
"""The projections built from the fact log at least once (``unsettled``): a store that has no row for one,
upgraded from a release without it, builds it at start-up."""

LEDGER_TABLES = (postings_table,)
"""The tables a replay drops and rebuilds, with the journal-lines view (the fact log is kept)."""
