"""Two instances of a producer on one PostgreSQL database and one Redis: their relays share one outbox,
and every event reaches the stream exactly once, each aggregate's versions in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope

from kernel.messaging.relay import OutboxRelay
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.events import need_surveyed
from tests.streams import entries

STREAM = "rehab.survey.events"
AGGREGATES = 20
VERSIONS = 10


@pytest.fixture
def instances(empty_postgres_url: str) -> Iterator[list[EventStore]]:
    """The stores of two instances of survey: two engines on one database."""
    engines = [create_store_engine(empty_postgres_url) for _ in range(2)]
    stores = [EventStore(engine, "survey") for engine in engines]
    stores[0].create_schema(service="survey")
    yield stores
    for engine in engines:
        engine.dispose()


def take_commands(stores: list[EventStore]) -> None:
    """Each instance appends every other version of every aggregate, one command at a time."""
    for version in range(VERSIONS):
        store = stores[version % 2]
        for aggregate in range(AGGREGATES):
            with store.transaction() as unit:
                unit.append(f"person-{aggregate}", version, [need_surveyed()])


async def relays_running_while(redis_url: str, stores: list[EventStore], commands: threading.Thread) -> None:
    relays = [OutboxRelay(store, Redis.from_url(redis_url), STREAM, idle_seconds=0.005) for store in stores]
    running = [asyncio.create_task(relay.run()) for relay in relays]
    commands.start()
    while commands.is_alive() or stores[0].counts()["unpublished"]:
        await asyncio.sleep(0.02)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for relay in relays:
        await relay.redis.aclose()


def test_two_relays_on_one_outbox_publish_every_event_once_in_each_aggregates_order(
    instances: list[EventStore], redis_url: str, redis_client: redis.Redis
) -> None:
    commands = threading.Thread(target=take_commands, args=(instances,))

    asyncio.run(relays_running_while(redis_url, instances, commands))

    published = [EventEnvelope.from_wire(fields) for _id, fields in entries(redis_client, STREAM)]
    stored = [event.envelope.event_id for event in instances[0].read()]
    assert sorted(str(envelope.event_id) for envelope in published) == sorted(str(i) for i in stored)
    assert len(published) == AGGREGATES * VERSIONS  # none twice
    for aggregate in range(AGGREGATES):
        versions = [envelope.version for envelope in published if envelope.stream_id == f"person-{aggregate}"]
        assert versions == list(range(1, VERSIONS + 1))
