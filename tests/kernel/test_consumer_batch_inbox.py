"""A batch archives its events in one statement, on SQLite and PostgreSQL: in the order read, once each,
before any handler runs; and what reconciliation asks of many entries is answered in one look."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload
from sqlalchemy import event, select

from kernel.messaging import ordering
from kernel.messaging.dead_letters import fields_as_text
from kernel.store.store import EventStore, UnitOfWork, inbox_table
from tests.kernel.consuming import STREAM, SURVEYED, consumer_for, surveys_of_one_person, with_redis


def in_one_batch(
    redis_url: str, store: EventStore, envelopes: list[EventEnvelope], handler: Any
) -> list[str]:
    consumer = consumer_for(store, {SURVEYED: handler})
    batch = [(f"{index}-0", envelope.to_wire()) for index, envelope in enumerate(envelopes, start=1)]

    async def handle(client: Redis) -> list[str]:
        return await consumer.handle_batch(client, STREAM, batch)

    return with_redis(redis_url, handle)


def inbox_inserts(store: EventStore) -> list[str]:
    """Collects the INSERT INTO inbox statements the store's engine runs from now on."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def collect(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOX"):
            seen.append(statement)

    return seen


def archived(store: EventStore) -> list[tuple[str, int]]:
    with store.engine.connect() as connection:
        query = select(inbox_table.c.stream_id, inbox_table.c.version).order_by(inbox_table.c.position)
        return [(stream_id, version) for stream_id, version in connection.execute(query)]


def test_a_batch_archives_its_events_in_one_statement_in_the_order_read_before_its_handlers_run(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first = surveys_of_one_person(store, 3, "person-1")
    second = surveys_of_one_person(store, 2, "person-2")  # the shared PostgreSQL's inbox is emptied per test
    read = [first[0], second[0], first[1], second[1], first[2]]
    statements = inbox_inserts(store)
    seen_by_handler: list[int] = []

    def count_archived(unit: UnitOfWork, _envelope: EventEnvelope, _payload: EventPayload) -> None:
        seen_by_handler.append(len(unit.session.execute(select(inbox_table.c.event_id)).all()))

    done = in_one_batch(redis_url, store, read, count_archived)

    assert done == ["1-0", "2-0", "3-0", "4-0", "5-0"]
    assert len(statements) == 1
    assert archived(store) == [(e.stream_id, e.version) for e in read]
    assert seen_by_handler == [5, 5, 5, 5, 5]


def test_a_batch_redelivered_archives_nothing_again_and_runs_no_handler(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    events = surveys_of_one_person(store, 3)
    handled: list[int] = []

    def note(_unit: UnitOfWork, envelope: EventEnvelope, _payload: EventPayload) -> None:
        handled.append(envelope.version)

    in_one_batch(redis_url, store, events, note)
    in_one_batch(redis_url, store, events, note)

    assert handled == [1, 2, 3]
    assert archived(store) == [("person-1", 1), ("person-1", 2), ("person-1", 3)]


def test_which_of_many_event_ids_are_received_or_parked_is_one_answer(store: EventStore) -> None:
    received, parked_one, unknown = surveys_of_one_person(store, 3, f"person-{uuid4()}")
    with store.transaction() as unit:
        unit.record_received(received, STREAM)
        ordering.park(unit.session, parked_one, STREAM, "2-0", parked_one.to_wire())

    with store.reading() as unit:
        found = ordering.accounted_for(
            unit.session, [str(e.event_id) for e in (received, parked_one, unknown)]
        )

    assert found == {str(received.event_id), str(parked_one.event_id)}


def test_an_entry_read_as_bytes_is_text_as_each_field_would_be_alone() -> None:
    fields = {b"event_id": b"e-1", b"payload": '{"name": "张三"}'.encode(), "producer": b"\xff survey"}

    assert fields_as_text(fields) == {
        "event_id": "e-1",
        "payload": '{"name": "张三"}',
        "producer": "\ufffd survey",
    }


def test_an_event_parked_for_another_aggregate_costs_a_batch_no_unparking_and_no_draining(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    # Unique aggregates: the shared test PostgreSQL keeps its parked table between tests.
    waiting = surveys_of_one_person(store, 2, f"person-{uuid4()}")[1]  # version 2: no predecessor comes
    with store.transaction() as unit:
        ordering.park(unit.session, waiting, STREAM, "0-1", waiting.to_wire())
    statements = parked_statements(store)
    handled: list[int] = []

    def note(_unit: UnitOfWork, envelope: EventEnvelope, _payload: EventPayload) -> None:
        handled.append(envelope.version)

    in_one_batch(redis_url, store, surveys_of_one_person(store, 3, f"person-{uuid4()}"), note)

    assert handled == [1, 2, 3]
    assert [statement.split()[0] for statement in statements] == ["SELECT"]  # which aggregates wait: once
    with store.reading() as unit:
        assert ordering.is_parked(unit.session, str(waiting.event_id))


def parked_statements(store: EventStore) -> list[str]:
    """Collects the statements reading or writing the parked table the store's engine runs from now on."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def collect(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        if "parked" in statement.lower() and words[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            seen.append(statement.strip())

    return seen
