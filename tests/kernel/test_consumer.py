"""Idempotent consumers: effects once per event_id, bad entries dead-lettered with a reason."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from uuid import UUID

import pytest
import redis
from faststream.redis import RedisBroker
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload, NeedSurveyed
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from kernel.messaging.consumer import (
    EventConsumer,
    EventHandler,
    EventRejected,
    Subscription,
    dead_letter_stream,
)
from kernel.store.store import EventStore, UnitOfWork
from tests.kernel.events import need_surveyed
from tests.streams import add, entries

STREAM = "rehab.survey.events"
effects = MetaData()
effect_table = Table(
    "effects", effects, Column("id", Integer, primary_key=True), Column("person_id", String(36))
)


def count_effect(unit: UnitOfWork, _envelope: EventEnvelope, payload: EventPayload) -> None:
    assert isinstance(payload, NeedSurveyed)
    unit.session.execute(insert(effect_table).values(person_id=str(payload.person_id)))


def effect_count(store: EventStore) -> int:
    with store.transaction() as unit:
        return len(unit.session.execute(select(effect_table)).all())


def consumer_of(store: EventStore, handler: EventHandler = count_effect) -> EventConsumer:
    store.create_schema(effects)
    return EventConsumer(store, "assessment", [Subscription(STREAM, {"survey.need_surveyed": handler})])


def a_published_envelope(sqlite_store: EventStore) -> EventEnvelope:
    with sqlite_store.transaction() as unit:
        return unit.append("person-x", 0, [need_surveyed(UUID(int=7))])[0]


def test_the_same_event_applied_twice_has_one_effect(sqlite_store: EventStore) -> None:
    consumer = consumer_of(sqlite_store)
    envelope = a_published_envelope(sqlite_store)
    assert consumer.apply(envelope, STREAM) is True
    assert consumer.apply(envelope, STREAM) is False
    assert effect_count(sqlite_store) == 1


def test_a_failing_effect_records_nothing_so_the_event_can_be_retried(sqlite_store: EventStore) -> None:
    def failing(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        count_effect(unit, envelope, payload)
        raise RuntimeError("database went away")

    envelope = a_published_envelope(sqlite_store)
    consumer = consumer_of(sqlite_store, failing)
    with pytest.raises(RuntimeError):
        consumer.apply(envelope, STREAM)
    assert effect_count(sqlite_store) == 0
    assert consumer_of(sqlite_store).apply(envelope, STREAM) is True
    assert effect_count(sqlite_store) == 1


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def run_consumer_while(consumer: EventConsumer, redis_url: str, action: Callable[[], object]) -> None:
    async def main() -> None:
        client = Redis.from_url(redis_url)
        broker = RedisBroker(redis_url)
        await consumer.ensure_groups(client)
        consumer.register(broker, client)
        await broker.start()
        try:
            await asyncio.to_thread(action)
        finally:
            await broker.stop()
            await client.aclose()

    asyncio.run(main())


def test_a_delivered_event_redelivered_on_the_stream_has_one_effect_and_is_acknowledged(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelope = a_published_envelope(sqlite_store)
    consumer = consumer_of(sqlite_store)
    add(redis_client, STREAM, envelope.to_wire())
    add(redis_client, STREAM, envelope.to_wire())  # the relay republished after a crash

    def both_processed() -> None:
        wait_for(lambda: redis_client.xinfo_groups(STREAM)[0]["entries-read"] == 2)
        wait_for(lambda: redis_client.xpending(STREAM, "assessment")["pending"] == 0)

    run_consumer_while(consumer, redis_url, both_processed)
    assert effect_count(sqlite_store) == 1


def test_a_consumer_started_late_gets_the_backlog(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelope = a_published_envelope(sqlite_store)
    add(redis_client, STREAM, envelope.to_wire())  # published before the group existed
    consumer = consumer_of(sqlite_store)
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: effect_count(sqlite_store) == 1))


def test_an_undecodable_entry_goes_to_the_dead_letter_stream_with_its_reason(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    consumer = consumer_of(sqlite_store)
    add(redis_client, STREAM, {"event_id": "not-a-uuid", "payload": "{"})
    dead = dead_letter_stream("assessment")
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: redis_client.xlen(dead) == 1))
    [(_id, fields)] = entries(redis_client, dead)
    assert "lacks fields" in fields["detail"]
    assert json.loads(fields["fields"])["event_id"] == "not-a-uuid"
    assert redis_client.xpending(STREAM, "assessment")["pending"] == 0
    assert effect_count(sqlite_store) == 0


def test_an_event_a_handler_rejects_is_dead_lettered_and_has_no_effect(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    def rejecting(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        count_effect(unit, envelope, payload)
        raise EventRejected("person is not in this jurisdiction")

    consumer = consumer_of(sqlite_store, rejecting)
    add(redis_client, STREAM, a_published_envelope(sqlite_store).to_wire())
    dead = dead_letter_stream("assessment")
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: redis_client.xlen(dead) == 1))
    assert "not in this jurisdiction" in entries(redis_client, dead)[0][1]["detail"]
    assert effect_count(sqlite_store) == 0
