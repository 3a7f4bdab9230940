"""The live ledger 在线账: the settlement book kept warm between events behind one lock, and book feeding.

Postings are written in the transaction that records the consumed event, so the archive and the
ledger never disagree; a posting's unique id (uuid5 of its key) is a second guard against paying
twice. When that transaction does not commit, the book is ahead of the database: it is marked
stale, and the next event rebuilds it from the fact log and writes whatever postings are missing.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from rehab_contracts import EventEnvelope
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from kernel.store.store import UnitOfWork
from services.settlement.book.dues import Posting, Unsettled
from services.settlement.book.facts import Fact
from services.settlement.book.policy import PolicySet
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.deployment import deployment_jurisdiction
from services.settlement.fact_types import SETTLEMENT_EVENT_TYPES
from services.settlement.ledger import fact_log
from services.settlement.ledger.archive import facts_of
from services.settlement.ledger.log_position import LogPosition
from services.settlement.ledger.posting_rows import write_postings
from services.settlement.ledger.tables import facts_table

_log = logging.getLogger(__name__)

RECOUNT_SECONDS = 60.0
"""How often a standby counts the fact log against what its book was fed (a rewritten log: build again)."""


def new_book(policies: PolicySet) -> SettlementBook:
    """An empty book for the deployment's jurisdiction, naming its institutions in the reasons it gives."""
    jurisdiction = deployment_jurisdiction()
    names = {institution.id: institution.name for institution in jurisdiction.assessment_institutions}
    names.update({institution.id: institution.name for institution in jurisdiction.service_institutions})
    return SettlementBook(policies, jurisdiction.jurisdiction, names)


def feed_archive(
    envelopes: Iterable[EventEnvelope], policies: PolicySet
) -> tuple[SettlementBook, list[Posting]]:
    """A fresh book fed with events in the given order, and every posting it made due."""
    return feed_facts(facts_of(envelopes), policies)


def feed_facts(facts: Iterable[Fact], policies: PolicySet) -> tuple[SettlementBook, list[Posting]]:
    """A fresh book fed with facts in the given order, and every posting it made due."""
    book = new_book(policies)
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


def discard(book: SettlementBook) -> None:
    """Let reference counting free a book now, even while the cyclic collector is paused.

    A book refers to itself (its routing table holds its bound methods), so dropping the last
    reference leaves it to the collector, which a bulk replay pauses; emptying its attributes
    breaks the cycle. The book must not be used again.
    """
    vars(book).clear()


class LiveLedger:
    """The settlement book kept in memory between events, shared by the four stream subscribers.

    Subscribers call from worker threads, so every use of the book holds the lock. ``fence``, when
    given, is called in each recording transaction before anything is written, and raises when this
    process must not write (it no longer leads: ADR 0020).
    """

    def __init__(self, policies: PolicySet, fence: Callable[[Session], None] | None = None) -> None:
        self.policies = policies
        self.fence = fence
        self._lock = threading.Lock()
        self._book = new_book(policies)
        self._stale = False
        self._position: LogPosition | None = None
        """How far the book has read the fact log; None once it recorded facts itself (their positions are
        not known here) or went stale: a standby or a take-over then builds the book again."""
        self._recount_at = 0.0

    @property
    def stale(self) -> bool:
        return self._stale

    def warm(self, engine: Engine) -> None:
        """Feed the fact log to a fresh book, writing no posting (at start-up)."""
        self.replace(lambda: self._warmed(engine))

    def warm_in_background(self, engine: Engine) -> threading.Thread:
        """``warm`` in a thread, the lock taken here first: the service answers at once, and an event
        (or a read of the book) waits for the warm book instead of finding an empty one. A failure
        leaves the book stale: the first event catches up from the fact log."""
        self._lock.acquire()

        def run() -> None:
            try:
                self._swap(lambda: self._warmed(engine))
            except Exception:
                self._stale = True
                _log.exception("settlement: the warm-up failed; the first event rebuilds the book")
            finally:
                self._lock.release()

        thread = threading.Thread(target=run, name="settlement-warm-up", daemon=True)
        thread.start()
        return thread

    def _warmed(self, engine: Engine) -> SettlementBook:
        with engine.begin() as connection:  # writes only when the log must be derived
            if not fact_log.covers_archive(connection, facts_table, SETTLEMENT_EVENT_TYPES):
                fact_log.derive_fact_log(connection)
            position = LogPosition()
            book = feed_facts(fact_log.decoded(position.unread(connection)), self.policies)[0]
        self._position = position
        return book

    # -- a standby's book (ADR 0020) -------------------------------------------------------------------
    def follow(self, engine: Engine) -> None:
        """Feed the book what the leader logged since the last call: a standby's book stays hot, its reads
        current, and a take-over reads only the rest. The postings it makes due are the leader's to write."""
        with self._lock:
            position = self._position
            if self._stale or position is None:
                self._swap(lambda: self._warmed(engine))
                return
            try:
                with engine.connect() as connection:
                    self._feed_unread(connection, position)
                    if time.monotonic() >= self._recount_at:
                        self._recount_at = time.monotonic() + RECOUNT_SECONDS
                        self._stale = not position.matches(connection)
            except Exception:
                self._stale = True  # the next call builds the book again
                raise

    def take_over(self, engine: Engine) -> None:
        """Bring the book up to the whole log when this instance is elected to write (the previous leader's
        transactions have ended): the rows it has not followed yet, or the log again when they disagree."""
        with self._lock:
            position = self._position
            if not self._stale and position is not None:
                with engine.connect() as connection:
                    self._feed_unread(connection, position, final=True)
                    if position.matches(connection):
                        return
                _log.warning("settlement: the followed book differs from the fact log; building it again")
            self._swap(lambda: self._warmed(engine))

    def _feed_unread(self, connection: Connection, position: LogPosition, *, final: bool = False) -> None:
        feed = self._book.feed
        with without_cycle_collection():
            for fact in fact_log.decoded(position.unread(connection, final=final)):
                feed(fact)

    def replace(self, build: Callable[[], SettlementBook]) -> None:
        """Swap in a book built while holding the lock (warm-up, rebuild)."""
        with self._lock:
            self._swap(build)

    def _swap(self, build: Callable[[], SettlementBook]) -> None:
        # The old book goes before the new one is built, so memory holds one book, not two; should
        # the build fail, the caller marks the book stale and the next event rebuilds it.
        discard(self._book)
        self._book = new_book(self.policies)
        self._position = None  # a build that does not say how far it read leaves the position unknown
        self._book = build()
        self._stale = False

    def mark_stale(self, *_args: Any) -> None:
        self._stale = True
        self._position = None

    def record(self, unit: UnitOfWork, fact: Fact) -> None:
        """Feed one consumed fact and write the postings it made due, in the consumer's transaction."""
        with self._lock:
            self._watch(unit.session)
            if self.fence is not None:
                self.fence(unit.session)
            self._position = None
            fact_log.append(unit.session, facts_table, fact)
            if self._stale:
                self._catch_up(unit)
                return
            write_postings(unit.session, self._book.feed(fact))

    def unsettled(self) -> list[Unsettled]:
        with self._lock:
            return self._book.unsettled()

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

    def _catch_up(self, unit: UnitOfWork) -> None:
        # The archive and the log in this transaction already hold the event being consumed. The
        # missing postings are written a batch at a time as the new book makes them due.
        from services.settlement.ledger.person_order import feed_in_order  # it builds on this module

        session = unit.session
        if not fact_log.covers_archive(session, facts_table, SETTLEMENT_EVENT_TYPES):
            fact_log.derive_fact_log(session)
        self._book = new_book(self.policies)  # the stale book goes before the new one is built
        rows = fact_log.pages(session, facts_table)
        self._book = feed_in_order(rows, self.policies, lambda postings: write_postings(session, postings))
        self._stale = False
