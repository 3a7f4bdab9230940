"""Settlement books 结算账本 made and fed in bulk: a fresh book of the deployment, fed facts in order.

A replay, an as-of or what-if replay and the live ledger all price with the same book (``book/``); this
module makes them and frees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rehab_contracts import EventEnvelope

from kernel.collector import without_cycle_collection
from services.settlement.book.dues import Posting
from services.settlement.book.facts import Fact
from services.settlement.book.policy import PolicySet
from services.settlement.book.settlement_book import SettlementBook
from services.settlement.deployment import deployment_jurisdiction
from services.settlement.ledger.archive import facts_of


def new_book(policies: PolicySet) -> SettlementBook:
    """An empty book for the deployment's jurisdiction, naming its institutions in the reasons it gives."""
    return book_maker(policies)()


def book_maker(policies: PolicySet) -> Callable[[], SettlementBook]:
    """Empty books for the deployment's jurisdiction as it is now, its pack read once (the live ledger
    makes a book per person)."""
    jurisdiction = deployment_jurisdiction()
    names = {institution.id: institution.name for institution in jurisdiction.assessment_institutions}
    names.update({institution.id: institution.name for institution in jurisdiction.service_institutions})
    settled = jurisdiction.jurisdiction
    return lambda: SettlementBook(policies, settled, names)


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


def discard(book: SettlementBook) -> None:
    """Let reference counting free a book now, even while the cyclic collector is paused.

    A book refers to itself (its routing table holds its bound methods), so dropping the last
    reference leaves it to the collector, which a bulk replay pauses; emptying its attributes
    breaks the cycle. The book must not be used again.
    """
    vars(book).clear()
