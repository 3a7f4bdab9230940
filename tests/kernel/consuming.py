"""Helpers for consumer tests: a handler that records what it applied, events of one aggregate, Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload, PersonRegistered
from rehab_contracts.examples import example_payload
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from kernel.domain.clock import business_time
from kernel.messaging.consumer import EventConsumer, EventHandler, Subscription
from kernel.store.store import EventStore, NewEvent, UnitOfWork
from tests.kernel.events import need_surveyed
from tests.streams import add, read_group

STREAM = "rehab.survey.events"
GROUP = "assessment"
SURVEYED = "survey.need_surveyed"
REGISTERED = "survey.person_registered"

applied_metadata = MetaData()
applied_table = Table(
    "applied",
    applied_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", String(200)),
    Column("version", Integer),
)

T = TypeVar("T")


def record_applied(unit: UnitOfWork, envelope: EventEnvelope, _payload: EventPayload) -> None:
    unit.session.execute(insert(applied_table).values(stream_id=envelope.stream_id, version=envelope.version))


def applied(store: EventStore) -> list[tuple[str, int]]:
    """(stream_id, version) of each effect, in the order the handler ran."""
    with store.transaction() as unit:
        rows = unit.session.execute(
            select(applied_table.c.stream_id, applied_table.c.version).order_by(applied_table.c.id)
        )
        return [(stream_id, version) for stream_id, version in rows]


def consumer_for(
    store: EventStore, handlers: dict[str, EventHandler] | None = None, **options: Any
) -> EventConsumer:
    store.create_schema(applied_metadata)
    chosen = handlers if handlers is not None else {SURVEYED: record_applied, REGISTERED: record_applied}
    return EventConsumer(store, GROUP, [Subscription(STREAM, chosen)], **options)


def surveys_of_one_person(store: EventStore, count: int, stream_id: str = "person-1") -> list[EventEnvelope]:
    """Versions 1..count of one aggregate, as its producer stored them."""
    with store.transaction() as unit:
        return unit.append(stream_id, 0, [need_surveyed() for _ in range(count)])


def registered_then_surveyed(store: EventStore, stream_id: str = "person-2") -> list[EventEnvelope]:
    registered = NewEvent(example_payload(PersonRegistered), business_time(date(2025, 3, 1)))
    with store.transaction() as unit:
        return unit.append(stream_id, 0, [registered, need_surveyed()])


def with_redis(redis_url: str, action: Callable[[Redis], Awaitable[T]]) -> T:
    """Run an async action with its own asyncio Redis client."""

    async def main() -> T:
        client = Redis.from_url(redis_url)
        try:
            return await action(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def delivered_to_a_consumer_that_dies(redis_client: redis.Redis, envelopes: list[EventEnvelope]) -> list[str]:
    """Publish the events and let a consumer read them and never acknowledge (it was killed)."""
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for envelope in envelopes:
        add(redis_client, STREAM, envelope.to_wire())
    return [entry_id for entry_id, _fields in read_group(redis_client, STREAM, GROUP, "killed-consumer")]


def pending_count(redis_client: redis.Redis) -> int:
    return int(redis_client.xpending(STREAM, GROUP)["pending"])
