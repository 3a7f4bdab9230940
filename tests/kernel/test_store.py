"""The event store, run on every backend: append, load, concurrency, inbox, outbox order."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from sqlalchemy import inspect
from sqlalchemy.pool import QueuePool

from kernel.store.store import ConcurrencyConflict, EventStore, NewEvent
from tests.kernel.conftest import journal_mode
from tests.kernel.events import need_surveyed


def test_appended_events_load_back_in_version_order_with_their_envelope(store: EventStore) -> None:
    with store.transaction() as unit:
        written = unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    with store.transaction() as unit:
        loaded = unit.load("person-1")
    assert [e.version for e in loaded] == [1, 2]
    assert loaded == written
    assert loaded[0].producer == "survey"
    assert loaded[0].event_type == "survey.need_surveyed"
    assert loaded[0].occurred_at.utcoffset() is not None


def test_the_streams_of_one_case_are_found_by_the_correlation_id_of_their_events(store: EventStore) -> None:
    person, other = uuid4(), uuid4()

    def of(case: UUID) -> NewEvent:
        return replace(need_surveyed(), correlation_id=case)

    with store.transaction() as unit:
        unit.append("case-b", 0, [of(person)])
        unit.append("case-other", 0, [of(other)])
        unit.append("case-a", 0, [of(person)])
    with store.transaction() as unit:
        unit.append("case-b", 1, [of(person)])
        assert unit.streams_correlated_with(str(person), "survey.need_surveyed") == ["case-b", "case-a"]
        assert unit.streams_correlated_with(str(other), "survey.need_surveyed") == ["case-other"]
        assert unit.streams_correlated_with(str(person), "survey.person_registered") == []


def test_a_second_writer_with_the_same_expected_version_gets_a_conflict(store: EventStore) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    with pytest.raises(ConcurrencyConflict), store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    with store.transaction() as unit:
        assert len(unit.load("person-1")) == 1


def test_a_failed_transaction_leaves_neither_event_nor_outbox_row(store: EventStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
        raise RuntimeError("crash after append, before commit")
    assert store.counts() == {"stored": 0, "published": 0, "unpublished": 0, "received": 0}


def test_global_positions_increase_across_streams(store: EventStore) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
        unit.append("person-2", 0, [need_surveyed()])
    with store.transaction() as unit:
        unit.append("person-1", 1, [need_surveyed()])
    positions = [event.position for event in store.read()]
    assert positions == sorted(positions) and len(set(positions)) == 3


def test_every_appended_event_waits_in_the_outbox_until_marked_published(store: EventStore) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    pending = store.unpublished(limit=10)
    assert [event.envelope.version for event in pending] == [1, 2]
    store.mark_published([(pending[0].position, "1-0")])
    assert [event.envelope.version for event in store.unpublished(limit=10)] == [2]
    assert store.counts()["published"] == 1


def test_after_units_and_marks_every_other_sqlite_write_transaction_flushes_its_commit(
    sqlite_store: EventStore,
) -> None:
    """Units (group commit, ADR 0024) and the relay's marks commit NORMAL; whichever pooled connection
    they leave behind, a write transaction that does not ask for NORMAL commits FULL."""
    with sqlite_store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    [pending] = sqlite_store.unpublished(limit=10)
    sqlite_store.mark_published([(pending.position, "1-0")])
    assert sqlite_store.counts()["published"] == 1
    pool = sqlite_store.engine.pool
    assert isinstance(pool, QueuePool)
    held = [sqlite_store.engine.connect() for _ in range(pool.checkedin() + 1)]  # each pooled one, and a new
    try:
        full = 2
        for connection in held:
            with connection.begin():
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == full
    finally:
        for connection in held:
            connection.close()


def test_an_inbound_event_is_recorded_once_and_a_second_record_is_told_it_is_a_duplicate(
    store: EventStore,
) -> None:
    with store.transaction() as unit:
        envelope = unit.append("person-1", 0, [need_surveyed()])[0]
    with store.transaction() as unit:
        assert not unit.has_received(envelope.event_id)
        assert unit.record_received(envelope, "rehab.survey.events")
    with store.transaction() as unit:
        assert unit.has_received(envelope.event_id)
        assert unit.received("survey.need_surveyed") == [envelope]
    with store.transaction() as unit:
        assert not unit.record_received(envelope, "rehab.survey.events")
        assert unit.received("survey.need_surveyed") == [envelope]


def test_received_events_can_be_filtered_by_aggregate(store: EventStore) -> None:
    person = uuid4()
    with store.transaction() as unit:
        mine = unit.append(f"person-{person}", 0, [need_surveyed(person)])[0]
        other = unit.append("person-other", 0, [need_surveyed()])[0]
        unit.record_received(mine, "s")
        unit.record_received(other, "s")
    with store.transaction() as unit:
        assert unit.received(stream_id=f"person-{person}") == [mine]


def test_sqlite_stores_run_in_wal_mode(sqlite_store: EventStore) -> None:
    assert journal_mode(sqlite_store) == "wal"


def test_a_query_does_not_wait_for_a_writer_holding_the_sqlite_lock(sqlite_store: EventStore) -> None:
    with sqlite_store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    with sqlite_store.transaction() as writer:
        writer.append("person-2", 0, [need_surveyed()])  # the write lock is held until commit
        with sqlite_store.reading() as reader:
            assert [e.version for e in reader.load("person-1")] == [1]
        assert sqlite_store.counts()["stored"] == 1  # the writer's event is not visible yet


def test_a_failed_transaction_is_rolled_back_so_rollback_listeners_hear_of_it(store: EventStore) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    rolled_back: list[Session] = []

    def listener(session: Session) -> None:
        rolled_back.append(session)

    event.listen(Session, "after_rollback", listener)
    try:
        with pytest.raises(RuntimeError), store.transaction() as unit:
            unit.append("person-1", 0, [need_surveyed()])
            raise RuntimeError("crash before commit")
    finally:
        event.remove(Session, "after_rollback", listener)
    assert len(rolled_back) == 1


def test_a_store_created_before_an_index_of_the_kernel_gets_it_when_its_schema_is_created_again(
    store: EventStore,
) -> None:
    with store.engine.begin() as connection:  # as a release before migrations left it (ADR 0018)
        connection.exec_driver_sql("DROP INDEX ix_events_correlation_id")
        connection.exec_driver_sql("DROP TABLE alembic_version")
    store.create_schema()
    names = {index["name"] for index in inspect(store.engine).get_indexes("events")}
    assert "ix_events_correlation_id" in names
