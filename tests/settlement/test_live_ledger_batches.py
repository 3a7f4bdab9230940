"""The live ledger writes a transaction's facts, postings and unsettled items together before it commits (one
statement each per batch of events): what the store holds after a batch is what one book fed the same
facts says, whatever an earlier fact of the batch said."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kernel.store.store import EventStore, create_store_engine
from services.settlement.book.policy import load_policies
from services.settlement.ledger import unsettled
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.tables import metadata as ledger_metadata
from services.settlement.ledger.tables import unsettled_table
from tests.settlement.settlement_builders import approved, assessed, recorded, surveyed
from tests.settlement.test_live_ledger_person_books import journeys, ledger_of, made_by_one_book


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path}/settlement.db"), "settlement")
    store.create_schema(ledger_metadata, service="settlement")
    return store


def rows_of(store: EventStore, person: str) -> int:
    query = select(func.count()).select_from(unsettled_table).where(unsettled_table.c.person == person)
    with store.engine.connect() as connection:
        return connection.scalar(query) or 0


def test_a_batch_of_six_persons_whole_years_leaves_unsettled_what_one_book_leaves(store):
    facts = journeys()
    ledger = LiveLedger(load_policies())

    with store.transaction() as unit:
        for fact in facts:
            ledger.record(unit, fact)

    postings, left = made_by_one_book(facts)
    assert ledger_of(store.engine) == postings
    assert unsettled.read(store.engine) == left
    assert len(left) == 6


def test_a_service_awaiting_its_approval_in_the_same_batch_leaves_nothing_unsettled(store):
    ledger = LiveLedger(load_policies())
    service = recorded("d-p1", application="a-p1", person="p1")

    with store.transaction() as unit:
        ledger.record(unit, surveyed("p1"))
        ledger.record(unit, service)
        assert ledger.kept_persons() == ["p1"]  # the book said "awaiting approval" after the service
        ledger.record(unit, approved(application="a-p1", person="p1"))

    assert rows_of(store, "p1") == 0
    assert unsettled.read(store.engine) == []


def test_a_later_batch_settling_what_an_earlier_one_left_unsettled_removes_its_rows(store):
    ledger = LiveLedger(load_policies())
    with store.transaction() as unit:
        ledger.record(unit, surveyed("p1"))
        ledger.record(unit, assessed("p1"))
        ledger.record(unit, recorded("d-p1", application="a-p1", person="p1"))
        ledger.record(unit, surveyed("p2"))
        ledger.record(unit, recorded("d-p2", application="a-p2", person="p2"))
    assert rows_of(store, "p1") == rows_of(store, "p2") == 1

    with store.transaction() as unit:
        ledger.record(unit, approved(application="a-p1", person="p1"))

    assert rows_of(store, "p1") == 0
    assert rows_of(store, "p2") == 1


def test_a_batch_that_does_not_commit_leaves_the_unsettled_items_as_they_were(store):
    ledger = LiveLedger(load_policies())
    with store.transaction() as unit:
        ledger.record(unit, recorded("d-p1", application="a-p1", person="p1"))
    before = unsettled.read(store.engine)

    with pytest.raises(RuntimeError), store.transaction() as unit:
        ledger.record(unit, approved(application="a-p1", person="p1"))
        ledger.record(unit, recorded("d2-p1", application="a-p9", person="p1"))
        raise RuntimeError("the commit fails")

    assert unsettled.read(store.engine) == before
    with store.transaction() as unit:
        ledger.record(unit, approved(application="a-p1", person="p1"))
    assert unsettled.read(store.engine) == []
