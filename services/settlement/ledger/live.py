"""The live ledger 在线账: the books of recent persons kept warm between events, and book feeding.

Every payment rests on one person's facts (ADR 0019), so the live ledger keeps one book per person, for
the ``PERSONS_KEPT`` persons fed most recently; a person whose book is not kept has it built again from
their facts in the fact log (read by the index on person) when their next fact comes. Memory holds those
books, whatever the history's length, and a start-up reads nothing (ADR 0021).

Postings are written in the transaction that records the consumed event, so the archive and the ledger
never disagree; a posting's unique id (uuid5 of its key) is a second guard against paying twice. What a
person's book leaves unsettled is written in the same transaction (``settlement_unsettled``). When that
transaction does not commit, the books it fed are ahead of the database: they are dropped, and built
again from the log when next needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from kernel.collector import without_cycle_collection
from kernel.store.store import UnitOfWork
from services.settlement.book.dues import Posting, Unsettled
from services.settlement.book.facts import Fact
from services.settlement.book.policy import PolicySet
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.ledger import fact_log, unsettled
from services.settlement.ledger.books import book_maker, discard
from services.settlement.ledger.posting_rows import write_postings

PERSONS_KEPT = 5_000
"""Books kept in memory: the persons fed most recently (a person's book is a few kilobytes)."""

_TRANSACTION = "settlement.live"
_WATCHED = "settlement.live.watched"


@dataclass
class _Kept:
    """A person's book, the applications their facts named, and what the book left unsettled last."""

    book: SettlementBook
    applications: set[str] = field(default_factory=set)
    unsettled: list[Unsettled] = field(default_factory=list)


@dataclass
class _Transaction:
    """What one consumer transaction fed: its persons' books are ahead of the database until it commits.

    The facts it logs, the postings their books made due and what they leave unsettled are written together
    before it commits (or before the log is read in it): one statement each per batch of events, not per
    event."""

    touched: set[str] = field(default_factory=set)
    unnamed: bool = False
    """It logged a fact that names no person (the set of such applications is read again on rollback)."""
    committed: bool = False
    facts: list[dict[str, str | None]] = field(default_factory=list)
    logged: set[str] = field(default_factory=set)
    """The persons of ``facts``, not written yet."""
    postings: list[Posting] = field(default_factory=list)
    unsettled: dict[str, list[Unsettled]] = field(default_factory=dict)
    """Persons whose books say something else is unsettled now, with what (the last word of each)."""


class LiveLedger:
    """Per-person settlement books kept between events, shared by the four stream subscribers.

    Subscribers call from worker threads, so every use of the books holds the lock. ``fence``, when given,
    is called in each recording transaction before anything is written, and raises when this process must
    not write (it no longer leads: ADR 0020). ``persons_kept`` bounds the books in memory; a book fed by a
    transaction still open is never dropped for room (another transaction could not see its facts yet).
    """

    def __init__(
        self,
        policies: PolicySet,
        fence: Callable[[Session], None] | None = None,
        persons_kept: int = PERSONS_KEPT,
    ) -> None:
        self.policies = policies
        self.fence = fence
        self.persons_kept = persons_kept
        self._lock = threading.RLock()
        self._books: OrderedDict[str, _Kept] = OrderedDict()
        self._open: dict[str, int] = {}
        """Persons fed by transactions still open, and by how many."""
        self._unnamed: set[str] | None = None
        """Applications whose logged facts name no person yet; None until read from the log."""
        self._new_book = book_maker(policies)
        self.loaded = 0
        """Books built from the log (a person not kept, or not known yet): for tests and metrics."""

    # -- recording ---------------------------------------------------------------------------------------
    def record(self, unit: UnitOfWork, fact: Fact) -> None:
        """Feed one consumed fact to its person's book; the fact, the postings it made due and what the book
        leaves unsettled are written in the consumer's transaction."""
        with self._lock:
            session = unit.session
            if self.fence is not None:
                self.fence(session)
            transaction = self._join(session)
            application: str | None = getattr(fact, "application", None)
            person: str | None = getattr(fact, "person", None)
            if person is None:  # an institution change names its application only
                person = self._person_of_application(session, transaction, application)
                if person is None:
                    self._unnamed_of(session).add(str(application))
                    transaction.unnamed = True
                    transaction.facts.append(fact_log.row_of(fact, None))
                    return
            kept = self._book_of(session, person, transaction)
            if application is not None and application not in kept.applications:
                kept = self._claim(session, application, person, kept, transaction)
            transaction.facts.append(fact_log.row_of(fact, person))
            transaction.logged.add(person)
            try:
                transaction.postings += kept.book.feed(fact)
                now = kept.book.unsettled()
                if now != kept.unsettled:
                    transaction.unsettled[person] = kept.unsettled = now
            except BaseException:
                self._drop(person)  # the book may hold half of the fact
                raise

    def _person_of_application(
        self, session: Session, transaction: _Transaction, application: str | None
    ) -> str | None:
        if application is None:
            return None
        self._write(session, transaction)
        return fact_log.person_of_application(session, application)

    def _write(self, session: Session, transaction: _Transaction) -> None:
        """Write what the transaction has fed so far: its facts in their order, their postings, and what its
        persons' books leave unsettled."""
        if transaction.facts:
            fact_log.append_rows(session, transaction.facts)
            transaction.facts = []
            transaction.logged.clear()
        if transaction.postings:
            write_postings(session, transaction.postings)
            transaction.postings = []
        if transaction.unsettled:
            # What each book says now: on PostgreSQL another transaction may have fed the person since.
            said = transaction.unsettled.items()
            unsettled.replace(session, {person: self._unsettled_now(person, items) for person, items in said})
            transaction.unsettled = {}

    def _unsettled_now(self, person: str, said: list[Unsettled]) -> list[Unsettled]:
        kept = self._books.get(person)
        return kept.unsettled if kept is not None else said

    def _claim(
        self, session: Session, application: str, person: str, kept: _Kept, transaction: _Transaction
    ) -> _Kept:
        """The first fact of an application in this person's book: facts of it logged before its person was
        known (institution changes) become theirs, in their place in the log.

        A fact is its own person's even when its application's other facts name someone else (the producers
        refuse that: delivery records a service for the approved person only); their book does not hold
        the application's approval, so it waits unsettled there."""
        if application in self._unnamed_of(session):
            self._write(session, transaction)  # the person's facts so far, for the book built again below
            fact_log.name_application(session, application, person)
            self._unnamed_of(session).discard(application)
            transaction.unnamed = True
            self._drop(person)  # built again below, the named facts in their place
            kept = self._book_of(session, person, transaction)
        kept.applications.add(application)
        return kept

    def _book_of(self, session: Session, person: str, transaction: _Transaction) -> _Kept:
        if person not in transaction.touched:
            transaction.touched.add(person)
            self._open[person] = self._open.get(person, 0) + 1
        kept = self._books.get(person)
        if kept is None:
            if person in transaction.logged:
                self._write(session, transaction)  # this transaction's facts of the person are theirs too
            kept = self._load(session, person)
            self._books[person] = kept
            self._make_room()  # never this person's: their transaction is open
        else:
            self._books.move_to_end(person)
        return kept

    def _load(self, session: Session | Connection, person: str) -> _Kept:
        """A person's book fed their logged facts (those of this transaction too), writing nothing."""
        book = self._new_book()
        kept = _Kept(book)
        with without_cycle_collection():
            for fact in fact_log.of_person(session, person):
                book.feed(fact)
                application = getattr(fact, "application", None)
                if application is not None:
                    kept.applications.add(application)
        kept.unsettled = book.unsettled()
        self.loaded += 1
        return kept

    def _make_room(self) -> None:
        if len(self._books) <= self.persons_kept:
            return
        for person in list(self._books):
            if len(self._books) <= self.persons_kept:
                return
            if person not in self._open:
                self._drop(person)

    def _drop(self, person: str) -> None:
        kept = self._books.pop(person, None)
        if kept is not None:
            discard(kept.book)

    def _unnamed_of(self, session: Session) -> set[str]:
        if self._unnamed is None:
            self._unnamed = fact_log.unnamed_applications(session)
        return self._unnamed

    # -- the transaction's end ----------------------------------------------------------------------------
    def _join(self, session: Session) -> _Transaction:
        """This session's transaction, watched: at its end, its persons' books are released, and dropped
        when it did not commit (rolled back or just closed)."""
        transaction: _Transaction | None = session.info.get(_TRANSACTION)
        if transaction is None:
            transaction = session.info[_TRANSACTION] = _Transaction()
            if session.info.get(_WATCHED) is not self:  # once per session: its next transactions too
                session.info[_WATCHED] = self
                event.listen(session, "before_commit", self._before_commit)
                event.listen(session, "after_commit", self._on_commit)
                event.listen(session, "after_transaction_end", self._on_end)
        return transaction

    def _before_commit(self, session: Session) -> None:
        transaction: _Transaction | None = session.info.get(_TRANSACTION)
        if transaction is not None:
            with self._lock:
                self._write(session, transaction)

    @staticmethod
    def _on_commit(session: Session) -> None:
        transaction: _Transaction | None = session.info.get(_TRANSACTION)
        if transaction is not None:
            transaction.committed = True

    def _on_end(self, session: Session, ended: Any) -> None:
        if ended.parent is not None:
            return
        transaction: _Transaction | None = session.info.pop(_TRANSACTION, None)
        if transaction is None:
            return
        with self._lock:
            for person in transaction.touched:
                left = self._open.get(person, 1) - 1
                if left:
                    self._open[person] = left
                else:
                    self._open.pop(person, None)
                if not transaction.committed:
                    self._drop(person)
            if transaction.unnamed and not transaction.committed:
                self._unnamed = None
            self._make_room()

    def warm(self, database: Session | Connection, persons: Iterable[str]) -> int:
        """Build these persons' books from the log ahead of their facts (a campaign's persons; a benchmark):
        at most ``persons_kept`` stay. Returns how many were built."""
        built = 0
        with self._lock:
            for person in persons:
                if person not in self._books:
                    self._books[person] = self._load(database, person)
                    built += 1
                    self._make_room()
        return built

    # -- everything again ---------------------------------------------------------------------------------
    def forget(self) -> None:
        """Drop every book (after a rebuild, or when this instance stops leading): each is built again from
        the log when its person's next fact comes."""
        with self._lock:
            for person in list(self._books):
                self._drop(person)
            self._unnamed = None

    def kept_persons(self) -> list[str]:
        """The persons whose books are in memory, least recently fed first."""
        with self._lock:
            return list(self._books)

    def holds(self) -> threading.RLock:
        """The lock every use of the books takes (a rebuild holds it while it replaces the ledger)."""
        return self._lock
