"""Settlement's start-up warms the live book in the background: reads and events wait for it."""

from __future__ import annotations

from pathlib import Path

from kernel.store.store import create_store_engine
from kernel.store.store import metadata as kernel_metadata
from services.settlement.book.policy import load_policies
from services.settlement.ledger import fact_log
from services.settlement.ledger.live import LiveLedger
from services.settlement.ledger.tables import facts_table
from services.settlement.ledger.tables import metadata as ledger_metadata
from tests.settlement.settlement_builders import recorded


def test_a_read_right_after_start_up_waits_for_the_warm_book(tmp_path: Path, monkeypatch) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, [recorded("d1")])  # a record waiting for its approval
    monkeypatch.setattr(fact_log, "covers_archive", lambda *_args: True)  # a log without its archive
    ledger = LiveLedger(load_policies())

    warming = ledger.warm_in_background(engine)
    waiting = ledger.unsettled()  # takes the lock the warm-up holds until its book is in place

    assert [entry.code for entry in waiting] == ["awaiting_approval"]
    warming.join()
    assert not ledger.stale


def test_a_failed_warm_up_leaves_the_book_stale_for_the_first_event_to_rebuild(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/missing/settlement.db")  # cannot be opened
    ledger = LiveLedger(load_policies())

    ledger.warm_in_background(engine).join()

    assert ledger.stale
    assert ledger.unsettled() == []
