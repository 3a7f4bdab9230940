"""A batch's inbox rows on SQLite go straight to the driver: the rows SQLAlchemy's insert would store, and
a row the inbox held already is never taken for a new one. The cyclic collector paused around batches
resumes when the last of them is done."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kernel.collector import without_cycle_collection
from kernel.messaging import batch
from kernel.store.store import EventStore, create_store_engine, inbox_table
from kernel.store.tables import inbox_row, record_all_received
from tests.kernel.consuming import STREAM, surveys_of_one_person


def stored_rows(store: EventStore) -> list[tuple[Any, ...]]:
    columns = [column for column in inbox_table.columns if column.name != "position"]
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(inbox_table.c.position))]


def test_the_driver_stores_the_rows_sqlalchemy_stores(sqlite_store: EventStore, tmp_path: Path) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 3) + surveys_of_one_person(sqlite_store, 2, "person-2")
    other = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'other.db'}"), producer="survey")
    other.create_schema()
    received_at = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    rows = [inbox_row(envelope, STREAM, received_at) for envelope in envelopes]

    with sqlite_store.transaction() as unit:
        by_driver = batch._record_all(unit.session.connection(), rows)
    with other.transaction() as unit:
        by_sqlalchemy = record_all_received(unit.session.connection(), rows)

    assert by_driver == by_sqlalchemy == {str(envelope.event_id) for envelope in envelopes}
    assert stored_rows(sqlite_store) == stored_rows(other)
    with sqlite_store.reading() as unit:  # read back as SQLAlchemy reads them: the same times
        assert [envelope.event_id for envelope in unit.received()] == [e.event_id for e in envelopes]
        times = unit.session.execute(select(inbox_table.c.occurred_at, inbox_table.c.received_at)).all()
    assert times[0] == (
        envelopes[0].occurred_at.astimezone(UTC).replace(tzinfo=None),
        received_at.replace(tzinfo=None),
    )
    other.engine.dispose()


def test_a_row_the_inbox_held_already_fails_the_batch(sqlite_store: EventStore) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 2)
    rows = [inbox_row(envelope, STREAM, datetime.now(UTC)) for envelope in envelopes]
    with sqlite_store.transaction() as unit:
        batch._record_all(unit.session.connection(), rows[:1])

    with pytest.raises(RuntimeError, match="1 inbox rows appeared"), sqlite_store.transaction() as unit:
        batch._record_all(unit.session.connection(), rows)

    assert len(stored_rows(sqlite_store)) == 1  # rolled back: the second is not kept either


def test_the_collector_resumes_when_the_last_pause_ends() -> None:
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def pause_a_while() -> None:
        with without_cycle_collection():
            inside.set()
            leave.wait(5)

    other = threading.Thread(target=pause_a_while)
    other.start()
    try:
        assert inside.wait(5)
        with without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other thread's pause goes on
    finally:
        leave.set()
        other.join()
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused() -> None:
    gc.disable()
    try:
        with without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
