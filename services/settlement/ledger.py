"""The double-entry ledger 记账: its tables, and the live book kept warm behind one lock.

The ledger is a projection of the archive (the inbox): it can be dropped and rebuilt by replay.
Postings are written in the transaction that records the consumed event, so the archive and the
ledger never disagree; a posting's unique id (uuid5 of its key) is a second guard against paying
twice. The journal lines are a view over the postings (ADR 0009).
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from rehab_contracts import EventEnvelope
from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Date,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from kernel.store.store import UnitOfWork, inbox_table
from services.settlement import fact_log
from services.settlement.deployment import settled_jurisdiction
from services.settlement.domain import Posting, SettlementBook, Unsettled
from services.settlement.dues import posting_id_text
from services.settlement.facts import Fact
from services.settlement.policy import PolicySet
from services.settlement.translation import SETTLEMENT_EVENT_TYPES, fact_of

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

facts_table = fact_log.fact_log_table(metadata)
"""The fact log: what the live book was fed, in order (see fact_log)."""

LEDGER_TABLES = (postings_table,)
"""The tables a replay drops and rebuilds, with the journal-lines view (the fact log is kept)."""

_BATCH = 5000
Database = Session | Connection


def insert_postings(database: Database, postings: Sequence[Posting]) -> None:
    """Insert postings (their journal lines are the view's); no check for existing keys."""
    rows = [posting_row(posting) for posting in postings]
    connection = database.connection() if isinstance(database, Session) else database
    if connection.dialect.name == "sqlite":
        # Straight to the driver: SQLAlchemy's per-row parameter processing was most of the time.
        for start in range(0, len(rows), _BATCH):
            connection.exec_driver_sql(_SQLITE_INSERT, rows[start : start + _BATCH])
        return
    names = [column.name for column in postings_table.columns]
    for start in range(0, len(rows), _BATCH):
        batch = [dict(zip(names, row, strict=True)) for row in rows[start : start + _BATCH]]
        for values in batch:
            values["business_date"] = date.fromisoformat(values["business_date"])
        connection.execute(insert(postings_table), batch)


def posting_row(posting: Posting) -> tuple[object, ...]:
    """A posting as the row of the postings table: columns in order, the date as ISO text, provenance
    as JSON (the source event ids are UUIDs, so their list needs no escaping)."""
    return (
        posting_id_text(posting.key),
        posting.rule,
        posting.key,
        posting.business_date.isoformat(),
        posting.debit_account,
        posting.credit_account,
        posting.amount_fen,
        posting.policy_id,
        posting.policy_version,
        "".join(_EVENT_IDS_JSON(list(posting.source_event_ids), 0)),
        "".join(_INPUTS_JSON(posting.inputs if type(posting.inputs) is dict else dict(posting.inputs), 0)),
    )


_COLUMNS = ", ".join(f'"{column.name}"' for column in postings_table.columns)
_SQLITE_INSERT = f"INSERT INTO postings ({_COLUMNS}) VALUES ({', '.join('?' * len(postings_table.columns))})"


def write_postings(database: Database, postings: Sequence[Posting]) -> int:
    """Insert the postings whose id (uuid5 of the key) is not in the ledger yet; returns how many were new."""
    by_id = {posting_id_text(posting.key): posting for posting in postings}
    ids, existing = list(by_id), set[str]()
    for start in range(0, len(ids), _BATCH):
        stored = postings_table.c.posting_id
        existing.update(database.scalars(select(stored).where(stored.in_(ids[start : start + _BATCH]))))
    fresh = [posting for posting_id, posting in by_id.items() if posting_id not in existing]
    insert_postings(database, fresh)
    return len(fresh)


def archive(database: Database | Engine, event_types: Sequence[str] = ()) -> Iterator[EventEnvelope]:
    """Every archived (consumed) event, or those of the given types, in the order received."""
    after = 0
    while True:
        query = (
            select(inbox_table.c.position, inbox_table.c.envelope)
            .where(inbox_table.c.position > after)
            .order_by(inbox_table.c.position)
            .limit(1000)
        )
        if event_types:
            # Filter while walking the archive in position order: on SQLite, the event_type index
            # would make every page scan and sort all the later events of those types.
            query = query.where((inbox_table.c.event_type + "").in_(event_types))
        if isinstance(database, Engine):
            with database.connect() as connection:
                rows = connection.execute(query).all()
        else:
            rows = list(database.execute(query).all())
        if not rows:
            return
        for _position, text in rows:
            yield EventEnvelope.model_validate_json(text)
        after = rows[-1][0]


def feed_archive(
    envelopes: Iterable[EventEnvelope], policies: PolicySet
) -> tuple[SettlementBook, list[Posting]]:
    """A fresh book fed with events in the given order, and every posting it made due."""
    return feed_facts(facts_of(envelopes), policies)


def facts_of(envelopes: Iterable[EventEnvelope]) -> Iterator[Fact]:
    """The settlement facts of archived events (each envelope and payload validated), in order."""
    for envelope in envelopes:
        fact = fact_of(envelope)
        if fact is not None:
            yield fact


def feed_facts(facts: Iterable[Fact], policies: PolicySet) -> tuple[SettlementBook, list[Posting]]:
    """A fresh book fed with facts in the given order, and every posting it made due."""
    book = SettlementBook(policies, settled_jurisdiction())
    postings: list[Posting] = []
    feed = book.feed
    with without_cycle_collection():
        for fact in facts:
            postings += feed(fact)
    return book, postings


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a bulk build, then resume it.

    A replay allocates hundreds of thousands of long-lived objects and makes no reference cycles;
    the collector's full passes over them were a third of the replay (reference counting still
    frees everything as usual).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def derive_fact_log(database: Database) -> int:
    """Rewrite the fact log from the archive alone (validating every envelope); returns its length."""
    return fact_log.rewrite(database, facts_table, facts_of(archive(database, SETTLEMENT_EVENT_TYPES)))


def logged_facts(database: Database) -> Iterator[Fact]:
    """The fact log in feed order, derived from the archive first when it does not cover it."""
    if not fact_log.covers_archive(database, facts_table, SETTLEMENT_EVENT_TYPES):
        derive_fact_log(database)
    return fact_log.read(database, facts_table)


class LiveLedger:
    """The settlement book kept in memory between events, shared by the four stream subscribers.

    Subscribers call from worker threads, so every use of the book holds the lock. When the
    transaction of a fed event rolls back, the book is ahead of the database: it is marked stale,
    and the next event rebuilds it from the archive and writes whatever postings are missing.
    """

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self._lock = threading.Lock()
        self._book = SettlementBook(policies, settled_jurisdiction())
        self._stale = False

    @property
    def stale(self) -> bool:
        return self._stale

    def warm(self, engine: Engine) -> None:
        """Feed the fact log to a fresh book, writing no posting (at start-up)."""

        def build() -> SettlementBook:
            with engine.begin() as connection:  # writes only when the log must be derived
                return feed_facts(logged_facts(connection), self.policies)[0]

        self.replace(build)

    def replace(self, build: Callable[[], SettlementBook]) -> None:
        """Swap in a book built while holding the lock (warm-up, rebuild)."""
        with self._lock:
            self._book = build()
            self._stale = False

    def mark_stale(self, *_args: Any) -> None:
        self._stale = True

    def record(self, unit: UnitOfWork, fact: Fact) -> None:
        """Feed one consumed fact and write the postings it made due, in the consumer's transaction."""
        with self._lock:
            self._watch(unit.session)
            fact_log.append(unit.session, facts_table, fact)
            if self._stale:
                self._catch_up(unit)
                return
            write_postings(unit.session, self._book.feed(fact))

    def _watch(self, session: Session) -> None:
        """Mark the book stale when the transaction ends without a commit (rolled back or just closed)."""
        committed: list[bool] = []

        def on_commit(_session: Session) -> None:
            committed.append(True)

        def on_end(_session: Session, transaction: Any) -> None:
            if transaction.parent is None and not committed:
                self.mark_stale()

        event.listen(session, "after_commit", on_commit)
        event.listen(session, "after_transaction_end", on_end)

    def unsettled(self) -> list[Unsettled]:
        with self._lock:
            return self._book.unsettled()

    def _catch_up(self, unit: UnitOfWork) -> None:
        # The archive and the log in this transaction already hold the event being consumed.
        book, postings = feed_facts(logged_facts(unit.session), self.policies)
        write_postings(unit.session, postings)
        self._book = book
        self._stale = False


def posting_of(row: Any) -> Posting:
    """A stored posting as the domain value."""
    return Posting(
        rule=row.rule,
        key=row.key,
        business_date=row.business_date,
        debit_account=row.debit_account,
        credit_account=row.credit_account,
        amount_fen=row.amount_fen,
        policy_id=row.policy_id,
        policy_version=row.policy_version,
        source_event_ids=tuple(json.loads(row.source_event_ids)),
        inputs=json.loads(row.inputs),
    )


def _json_value(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoders that json.dumps(ids) and json.dumps(inputs, ensure_ascii=False, sort_keys=True,
# default=_json_value) build on every call, built once (the same text; no circular-reference check,
# which provenance, made of plain values, never needs).
_EVENT_IDS_JSON = c_make_encoder(None, None, encode_basestring_ascii, None, ": ", ", ", False, False, True)
_INPUTS_JSON = c_make_encoder(None, _json_value, encode_basestring, None, ": ", ", ", True, False, True)


# -- read side ---------------------------------------------------------------------------------
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


def archived_events(engine: Engine, event_ids: Sequence[str]) -> list[tuple[EventEnvelope, datetime]]:
    """Archived envelopes with the time settlement received them, in the order of ``event_ids``."""
    query = select(inbox_table.c.event_id, inbox_table.c.envelope, inbox_table.c.received_at).where(
        inbox_table.c.event_id.in_(list(event_ids))
    )
    with engine.connect() as connection:
        found = {row.event_id: row for row in connection.execute(query)}
    return [
        (EventEnvelope.model_validate_json(found[event_id].envelope), _aware(found[event_id].received_at))
        for event_id in event_ids
        if event_id in found
    ]


def _aware(moment: datetime) -> datetime:
    # SQLite drops the offset; the kernel writes UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
