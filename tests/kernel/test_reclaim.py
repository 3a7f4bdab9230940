"""Reclaim: entries a dead or stuck consumer left pending are claimed, applied once, or dead-lettered."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload

from kernel.messaging.consumer import dead_letter_stream
from kernel.store.store import EventStore, UnitOfWork
from tests.kernel.consuming import (
    GROUP,
    STREAM,
    SURVEYED,
    applied,
    consumer_for,
    delivered_to_a_consumer_that_dies,
    pending_count,
    record_applied,
    surveys_of_one_person,
    with_redis,
)
from tests.streams import entries


def test_an_entry_left_pending_by_a_dead_consumer_is_claimed_applied_once_and_acknowledged(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 2)
    delivered_to_a_consumer_that_dies(redis_client, envelopes)
    consumer = consumer_for(sqlite_store)

    handled = with_redis(redis_url, lambda client: consumer.reclaim_once(client, min_idle_seconds=0))

    assert handled == 2
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]
    assert pending_count(redis_client) == 0
    assert consumer.stats.reclaimed == 2
    assert with_redis(redis_url, lambda client: consumer.reclaim_once(client, min_idle_seconds=0)) == 0


def test_an_entry_still_within_the_claim_idle_time_is_left_to_its_consumer(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    delivered_to_a_consumer_that_dies(redis_client, surveys_of_one_person(sqlite_store, 1))
    consumer = consumer_for(sqlite_store, claim_idle_seconds=60)

    assert with_redis(redis_url, consumer.reclaim_once) == 0
    assert applied(sqlite_store) == []
    assert pending_count(redis_client) == 1


def test_entries_trimmed_before_anyone_processed_them_are_logged_and_counted(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    [first, _second] = delivered_to_a_consumer_that_dies(redis_client, surveys_of_one_person(sqlite_store, 2))
    redis_client.xdel(STREAM, first)  # trimmed while still pending
    consumer = consumer_for(sqlite_store)

    with caplog.at_level(logging.ERROR):
        with_redis(redis_url, lambda client: consumer.reclaim_once(client, min_idle_seconds=0))

    assert consumer.stats.lost_before_processing == 1
    assert consumer.health()["lost_before_processing"] == 1
    assert any(first in record.getMessage() for record in caplog.records)
    assert pending_count(redis_client) == 0
    # version 2 waits for the lost version 1 instead of being applied out of order
    assert applied(sqlite_store) == []
    assert consumer.health()["parked_now"] == 1


def test_an_entry_that_keeps_failing_is_dead_lettered_after_the_bounded_number_of_deliveries(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    def broken(_unit: UnitOfWork, _envelope: EventEnvelope, _payload: EventPayload) -> None:
        raise RuntimeError("a bug in the handler")

    [envelope] = surveys_of_one_person(sqlite_store, 1)
    [entry_id] = delivered_to_a_consumer_that_dies(redis_client, [envelope])  # delivery 1
    consumer = consumer_for(sqlite_store, {SURVEYED: broken}, max_deliveries=3)

    async def reclaim_twice(client: Redis) -> None:
        await consumer.reclaim_once(client, min_idle_seconds=0)  # delivery 2: fails, stays pending
        assert pending_count(redis_client) == 1
        await consumer.reclaim_once(client, min_idle_seconds=0)  # delivery 3: gives up

    with_redis(redis_url, reclaim_twice)

    assert pending_count(redis_client) == 0
    [(_id, fields)] = entries(redis_client, dead_letter_stream(GROUP))
    assert fields["source_stream"] == STREAM
    assert fields["source_entry_id"] == entry_id
    assert fields["consumer_group"] == GROUP
    assert fields["delivery_count"] == "3"
    assert "a bug in the handler" in fields["detail"]
    assert fields["dead_lettered_at"]
    assert json.loads(fields["fields"]) == envelope.to_wire()


def test_an_entry_that_failed_once_is_applied_once_when_reclaimed(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    failures = [RuntimeError("database is locked")]

    def flaky(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        record_applied(unit, envelope, payload)
        if failures:
            raise failures.pop()

    [envelope] = surveys_of_one_person(sqlite_store, 1)
    [entry_id] = delivered_to_a_consumer_that_dies(redis_client, [envelope])
    consumer = consumer_for(sqlite_store, {SURVEYED: flaky})

    async def handle_then_reclaim(client: Redis) -> None:
        fields = envelope.to_wire()
        assert await consumer.handle_entry(client, STREAM, entry_id, fields) is False
        await consumer.reclaim_once(client, min_idle_seconds=0)

    with_redis(redis_url, handle_then_reclaim)
    assert applied(sqlite_store) == [("person-1", 1)]
    assert pending_count(redis_client) == 0
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0


def test_the_reclaim_loop_takes_over_what_a_stopped_consumer_holds(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    delivered_to_a_consumer_that_dies(redis_client, surveys_of_one_person(sqlite_store, 3))
    consumer = consumer_for(sqlite_store, claim_idle_seconds=0.2)

    async def run_loop(client: Redis) -> None:
        task = asyncio.create_task(consumer.reclaim_forever(client, every_seconds=0.05))
        deadline = time.monotonic() + 10
        while len(applied(sqlite_store)) < 3 or pending_count(redis_client):  # applied, then acknowledged
            assert time.monotonic() < deadline, "the reclaim loop did not take the entries over"
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with_redis(redis_url, run_loop)
    assert [version for _stream, version in applied(sqlite_store)] == [1, 2, 3]
    assert pending_count(redis_client) == 0
