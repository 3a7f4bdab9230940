"""A consumer repairs what another client took from its group (issue 14, defect 5): settlement's Redis
user ran XREADGROUP + XACK in assessment's group and the entry never reached assessment. Redis ACLs
cannot restrict a user to one group, so each consumer compares what its group has passed with what it
received, and applies the rest, from a checkpoint kept in its own store (O(new entries) per check)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope

from kernel.messaging import reconcile
from kernel.messaging.consumer import dead_letter_stream
from kernel.store.store import EventStore
from tests.kernel.consuming import (
    GROUP,
    STREAM,
    applied,
    consumer_for,
    pending_count,
    surveys_of_one_person,
    with_redis,
)
from tests.streams import PendingAcknowledgedMeanwhile, add, read_group


def published(redis_client: redis.Redis, envelopes: list[EventEnvelope]) -> list[str]:
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    return [add(redis_client, STREAM, envelope.to_wire()) for envelope in envelopes]


def drained_by_an_intruder(redis_client: redis.Redis, count: int) -> list[str]:
    """Another agency's client reads ``count`` entries in the consumer's group and acknowledges them."""
    taken = [
        entry_id for entry_id, _fields in read_group(redis_client, STREAM, GROUP, "intruder", count=count)
    ]
    redis_client.xack(STREAM, GROUP, *taken)
    return taken


def test_entries_another_client_read_and_acknowledged_in_the_group_are_applied_once(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    published(redis_client, surveys_of_one_person(sqlite_store, 3))
    drained_by_an_intruder(redis_client, 2)
    consumer = consumer_for(sqlite_store)

    assert with_redis(redis_url, consumer.reconcile_once) == 2

    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]
    assert consumer.stats.recovered == 2
    assert with_redis(redis_url, consumer.reconcile_once) == 0  # applied once
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]


def test_each_check_reads_only_what_the_group_passed_since_the_checkpoint_kept_in_the_store(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    ids = published(redis_client, surveys_of_one_person(sqlite_store, 4))
    drained_by_an_intruder(redis_client, 2)
    with_redis(redis_url, consumer_for(sqlite_store).reconcile_once)

    restarted = consumer_for(sqlite_store)  # a new process: the checkpoint comes from the store
    assert restarted.checkpoint(STREAM) == ids[1]
    assert with_redis(redis_url, restarted.reconcile_once) == 0
    assert restarted.stats.reconciled_entries == 0  # nothing before the checkpoint was read again

    drained_by_an_intruder(redis_client, 1)
    assert with_redis(redis_url, restarted.reconcile_once) == 1
    assert restarted.stats.reconciled_entries == 1
    assert restarted.checkpoint(STREAM) == ids[2]


def test_entries_the_consumer_received_itself_or_still_holds_pending_are_left_alone(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    ids = published(redis_client, [first, second, third])
    consumer = consumer_for(sqlite_store)
    [(own_id, fields)] = read_group(redis_client, STREAM, GROUP, consumer.name, count=1)

    async def receive_then_reconcile(client: Redis) -> int:
        assert await consumer.handle_entry(client, STREAM, own_id, fields)
        await client.xack(STREAM, GROUP, own_id)
        read_group(redis_client, STREAM, GROUP, consumer.name, count=1)  # delivered, not handled yet
        return await consumer.reconcile_once(client)

    assert with_redis(redis_url, receive_then_reconcile) == 0
    assert applied(sqlite_store) == [("person-1", 1)]
    assert pending_count(redis_client) == 1  # reclaim's to deliver again, not reconciliation's
    assert consumer.checkpoint(STREAM) == ids[0]  # never past an entry still pending


def test_a_dead_lettered_entry_is_not_applied_nor_dead_lettered_again(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    ids = published(redis_client, [])
    poison = add(redis_client, STREAM, {"event_id": "not-an-envelope"})
    consumer = consumer_for(sqlite_store)

    async def dead_letter_then_reconcile(client: Redis) -> int:
        [(entry_id, fields)] = read_group(redis_client, STREAM, GROUP, consumer.name)
        assert await consumer.handle_entry(client, STREAM, entry_id, fields)  # dead-lettered at once
        await client.xack(STREAM, GROUP, entry_id)
        return await consumer.reconcile_once(client)

    assert with_redis(redis_url, dead_letter_then_reconcile) == 0
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 1
    assert consumer.checkpoint(STREAM) == poison
    assert ids == []


def test_the_reclaim_loop_reconciles_now_and_then(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    published(redis_client, surveys_of_one_person(sqlite_store, 2))
    drained_by_an_intruder(redis_client, 2)
    consumer = consumer_for(sqlite_store, reconcile_seconds=0.1)

    async def run_loop(client: Redis) -> None:
        task = asyncio.create_task(consumer.reclaim_forever(client, every_seconds=0.05))
        deadline = time.monotonic() + 10
        while len(applied(sqlite_store)) < 2:
            assert time.monotonic() < deadline, "the loop did not reconcile"
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with_redis(redis_url, run_loop)
    assert consumer.health()["recovered"] == 2


def test_a_long_stream_without_a_checkpoint_is_reconciled_over_several_checks(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconcile, "PAGE", 2)
    monkeypatch.setattr(reconcile, "MOST_PER_CHECK", 2)
    published(redis_client, surveys_of_one_person(sqlite_store, 5))
    drained_by_an_intruder(redis_client, 5)
    consumer = consumer_for(sqlite_store)

    assert [with_redis(redis_url, consumer.reconcile_once) for _ in range(4)] == [2, 2, 1, 0]
    assert len(applied(sqlite_store)) == 5


def test_a_group_whose_pending_entries_were_acknowledged_meanwhile_has_passed_its_last_delivered() -> None:
    redis: Any = PendingAcknowledgedMeanwhile("assessment")

    passed = asyncio.run(reconcile._group_passed(redis, "rehab.survey.events", "assessment"))

    assert passed == (1700000000000, 5)
