"""A read Redis answered while the consumer could not take the reply (its process stalled past the socket
timeout) leaves the entries pending to this very consumer, seen by no handler: the reclaim loop handles
them without waiting for the claim time, and leaves alone what a handler holds or left pending after a
failure (those wait for the claim time, spending their delivery budget)."""

from __future__ import annotations

from typing import Any

import redis
from redis.asyncio import Redis

from kernel.messaging.consumer import EventConsumer
from kernel.store.store import EventStore
from tests.kernel.consuming import GROUP, STREAM, applied, consumer_for, surveys_of_one_person, with_redis
from tests.streams import add


def read_and_lost(redis_client: redis.Redis, consumer: EventConsumer) -> list[str]:
    """XREADGROUP as the consumer, the reply never reaching its handlers: the entries stay pending to it."""
    reply: Any = redis_client.xreadgroup(GROUP, consumer.name, {STREAM: ">"})
    return [entry_id.decode() for entry_id, _fields in reply[0][1]]


def pending_to(redis_client: redis.Redis) -> int:
    return int(redis_client.xpending(STREAM, GROUP)["pending"])


def recover(redis_url: str, consumer: EventConsumer) -> int:
    async def run(client: Redis) -> int:
        return await consumer.recover_lost_reads(client, idle_seconds=0)

    return with_redis(redis_url, run)


def test_a_read_whose_reply_was_lost_is_handled_without_waiting_for_the_claim_time(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store)  # claim time 30 s: XAUTOCLAIM would not take them yet
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for envelope in envelopes:
        add(redis_client, STREAM, envelope.to_wire())
    assert len(read_and_lost(redis_client, consumer)) == 3

    assert recover(redis_url, consumer) == 3

    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2), ("person-1", 3)]
    assert pending_to(redis_client) == 0


def test_entries_a_handler_holds_or_left_pending_after_a_failure_are_not_taken_for_lost_reads(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store)
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for envelope in envelopes:
        add(redis_client, STREAM, envelope.to_wire())
    held, failed, lost = read_and_lost(redis_client, consumer)
    consumer.in_hand[STREAM] = {held}
    consumer.left_pending[STREAM] = {failed}

    assert recover(redis_url, consumer) == 1

    assert consumer.stats.applied == 0 and consumer.stats.parked == 1  # version 3 waits for 1 and 2
    still: Any = redis_client.xpending_range(STREAM, GROUP, min="-", max="+", count=10)
    assert {entry["message_id"].decode() for entry in still} == {held, failed}
    assert lost not in consumer.left_pending[STREAM]
