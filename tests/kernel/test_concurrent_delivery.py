"""Two deliveries of the same entries at once (reclaim overlapping the subscriber, two instances of a
service) on PostgreSQL, where READ COMMITTED lets each see the other's commit between two statements:
each event is applied once and none is dead-lettered as a conflict."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope

from kernel.messaging.consumer import EventConsumer, dead_letter_stream
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.consuming import GROUP, STREAM, applied, consumer_for, surveys_of_one_person, with_redis
from tests.streams import entries

PERSONS = 40
VERSIONS = 4


@pytest.fixture
def stores(empty_postgres_url: str) -> Iterator[list[EventStore]]:
    """Two instances' stores on one PostgreSQL database."""
    engines = [create_store_engine(empty_postgres_url) for _ in range(2)]
    yield [EventStore(engine, "survey") for engine in engines]  # survey's events, consumed as assessment
    for engine in engines:
        engine.dispose()


def deliver(
    redis_url: str, consumer: EventConsumer, batch: list[tuple[str, dict[str, str]]], size: int
) -> None:
    """Hand the entries to the consumer in reads of ``size`` (1: the one-by-one path of reclaim)."""

    async def handle(client: Redis) -> None:
        for start in range(0, len(batch), size):
            read = batch[start : start + size]
            if size == 1:
                await consumer.handle_entry(client, STREAM, *read[0])
            else:
                await consumer.handle_batch(client, STREAM, read)

    with_redis(redis_url, handle)


def at_once(
    redis_url: str, consumers: list[EventConsumer], batch: list[tuple[str, dict[str, str]]], size: int
) -> None:
    barrier = threading.Barrier(len(consumers))

    def run(consumer: EventConsumer) -> None:
        barrier.wait()
        deliver(redis_url, consumer, batch, size)

    threads = [threading.Thread(target=run, args=(consumer,)) for consumer in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def surveys(store: EventStore) -> list[EventEnvelope]:
    """Versions 1..VERSIONS of PERSONS aggregates, interleaved as a stream carries them."""
    by_person = [surveys_of_one_person(store, VERSIONS, f"person-{n}") for n in range(PERSONS)]
    return [person[version] for version in range(VERSIONS) for person in by_person]


@pytest.mark.parametrize("size", [1, 10], ids=["one-by-one", "in-batches"])
def test_the_same_entries_delivered_twice_at_once_are_applied_once_and_never_dead_lettered(
    stores: list[EventStore], redis_url: str, redis_client: redis.Redis, size: int
) -> None:
    consumers = [consumer_for(store) for store in stores]
    events = surveys(stores[0])
    batch = [(f"{index}-0", envelope.to_wire()) for index, envelope in enumerate(events, start=1)]

    at_once(redis_url, consumers, batch, size)

    assert entries(redis_client, dead_letter_stream(GROUP)) == []
    assert sum(consumer.stats.dead_lettered for consumer in consumers) == 0
    effects = applied(stores[0])
    assert len(effects) == len(set(effects)) == PERSONS * VERSIONS  # each event applied once
