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

import gc
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from services.settlement.book.dues import Posting
from services.settlement.book.facts import Fact
from services.settlement.book.policy import PolicySet
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.fact_types import BY_NAME
from services.settlement.ledger.fact_log import encode
from services.settlement.ledger.live import new_book, without_cycle_collection
from services.settlement.ledger.report import LedgerReport, RunningTotals

GROUP_FACTS = 20_000
"""Facts a book is fed before the next person starts a fresh one: the memory a replay holds."""

POSTINGS_BATCH = 5_000
"""Postings handed on at once (to be inserted, or folded into totals)."""

_SPILL_BATCH = 5_000

PostingSink = Callable[[list[Posting]], None]


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
    """A temporary file of facts, read back person by person (a context manager: the file goes on exit)."""

    def __init__(self) -> None:
        # "" opens a private temporary database on disk, deleted when closed; its cache is bounded.
        self._file = sqlite3.connect("", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16384", "temp_store = FILE"):
            self._file.execute(f"PRAGMA {pragma}")
        self._file.execute(
            "CREATE TABLE facts "
            "(seq INTEGER PRIMARY KEY, person TEXT, application TEXT, delivery TEXT, fact TEXT)"
        )
        self._file.execute("BEGIN")
        self.count = 0
        self._unnamed = 0  # facts that name no person (institution changes)

    def __enter__(self) -> PersonOrder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._file.close()

    def add_texts(self, texts: Iterable[str]) -> None:
        """Spill fact-log rows as stored (JSON text), in feed order."""
        loads, keys = json.loads, _KEYS
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
        self._file.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?)", rows)

    def settle(self, policies: PolicySet, sink: PostingSink) -> Settled:
        """Feed every spilled fact to fresh books, person by person (or to one book, see the module),
        handing their postings to ``sink`` in batches; returns what was settled."""
        by_person = self._order_by_person()
        query = "SELECT person, fact FROM facts ORDER BY " + ("person, seq" if by_person else "seq")
        book, unsettled = _settle(self._file.execute(query), policies, sink, GROUP_FACTS if by_person else 0)
        return Settled(self.count, unsettled + len(book.unsettled()), by_person)

    def _order_by_person(self) -> bool:
        """Name the person of institution changes by their application; whether no application or
        delivery belongs to two persons (then person by person gives the same postings)."""
        file = self._file
        file.execute("CREATE INDEX facts_application ON facts (application, person)")
        if self._unnamed:
            file.execute(
                "UPDATE facts SET person = (SELECT named.person FROM facts AS named WHERE named.application "
                "= facts.application AND named.person IS NOT NULL ORDER BY named.person LIMIT 1) "
                "WHERE person IS NULL AND application IS NOT NULL"
            )
        for column in ("application", "delivery"):
            if column == "delivery":
                file.execute("CREATE INDEX facts_delivery ON facts (delivery, person)")
            shared = file.execute(
                f"SELECT 1 FROM facts WHERE {column} IS NOT NULL GROUP BY {column} "  # two fixed column names
                "HAVING MIN(person) <> MAX(person) LIMIT 1"
            ).fetchone()
            if shared is not None:
                return False
        return True


def _settle(
    rows: Iterable[tuple[str | None, str]], policies: PolicySet, sink: PostingSink, group: int
) -> tuple[SettlementBook, int]:
    """Feed the rows' facts in their order; a fresh book when the person changes after ``group`` facts
    (never, when ``group`` is 0). Returns the last book and how many facts the earlier ones left unsettled."""
    loads, decoders = json.loads, _DECODERS
    book, fed, unsettled = new_book(policies), 0, 0
    person: str | None = None
    batch: list[Posting] = []
    with without_cycle_collection():
        for who, text in rows:
            if group and fed >= group and who != person:
                unsettled += len(book.unsettled())
                book, fed = new_book(policies), 0
                gc.collect()  # the book refers to itself (its routing table): freed only by the collector
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


def feed_in_order(texts: Iterable[str], policies: PolicySet, sink: PostingSink) -> SettlementBook:
    """One book fed fact-log rows in their order (the live book), handing postings to ``sink``."""
    book, _unsettled = _settle(((None, text) for text in texts), policies, sink, 0)
    return book


def fold_facts(facts: Iterable[Fact], policies: PolicySet) -> tuple[Settled, LedgerReport]:
    """Settle facts (in feed order) person by person and fold their postings into totals as they come:
    a replay for a report (as of a date, under another policy) holds one group's book, not the ledger."""
    totals = RunningTotals()
    add = totals.add

    def fold(postings: list[Posting]) -> None:
        for posting in postings:
            add(posting)

    return settle_by_person(facts, policies, fold), totals.report()
