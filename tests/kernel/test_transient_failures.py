"""Infrastructure failures (disk full, database locked or down) spend no delivery budget (issue 14,
defect 8): settlement's disk full for ~60 s dead-lettered 41 good events after 5 deliveries. Only a
decision of the domain or a bad entry is dead-lettered; the rest waits, backs off and is applied."""

from __future__ import annotations

import errno
import sqlite3

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload
from sqlalchemy.exc import OperationalError

from kernel.messaging.consumer import EventHandler, EventRejected, dead_letter_stream
from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.store.sqlite import StoreBusy
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

DISK_FULL = OperationalError("INSERT INTO inbox …", {}, sqlite3.OperationalError("database or disk is full"))
DATABASE_DOWN = OperationalError("SELECT 1", {}, Exception("connection to server on socket failed"))
NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def failing(times: int, error: Exception) -> EventHandler:
    """A handler whose store fails ``times`` times with ``error``, then applies the event."""
    failures = [error] * times

    def handler(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        if failures:
            raise failures.pop()
        record_applied(unit, envelope, payload)

    return handler


@pytest.mark.parametrize("error", [DISK_FULL, DATABASE_DOWN, NO_SPACE, StoreBusy()], ids=repr)
def test_an_event_that_meets_a_failing_store_more_often_than_the_delivery_budget_is_applied_once_afterwards(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, error: Exception
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    delivered_to_a_consumer_that_dies(redis_client, [envelope])  # delivery 1
    consumer = consumer_for(sqlite_store, {SURVEYED: failing(8, error)}, max_deliveries=3, backoff_seconds=0)

    async def reclaim_until_applied(client: Redis) -> None:
        for _ in range(9):  # deliveries 2-10: eight infrastructure failures, then the store is back
            await consumer.reclaim_once(client, min_idle_seconds=0)

    with_redis(redis_url, reclaim_until_applied)

    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0
    assert applied(sqlite_store) == [("person-1", 1)]
    assert pending_count(redis_client) == 0
    assert consumer.stats.infrastructure_failures == 8
    assert consumer.stats.dead_lettered == 0


def test_a_failing_store_backs_off_the_consumer_and_the_first_success_resets_it(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    [entry_id] = delivered_to_a_consumer_that_dies(redis_client, [envelope])
    consumer = consumer_for(sqlite_store, {SURVEYED: failing(3, DISK_FULL)}, backoff_seconds=0.01)

    async def deliver_four_times(client: Redis) -> list[float]:
        waits = []
        for _ in range(4):
            await consumer.handle_entry(client, STREAM, entry_id, envelope.to_wire())
            waits.append(consumer.backoff.seconds)
        return waits

    assert with_redis(redis_url, deliver_four_times) == [0.01, 0.02, 0.04, 0.0]


def test_a_rejected_event_is_still_dead_lettered_at_once_and_a_failing_handler_after_the_budget(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    def rejecting(_unit: UnitOfWork, _envelope: EventEnvelope, _payload: EventPayload) -> None:
        raise EventRejected("not a designated institution")

    [envelope] = surveys_of_one_person(sqlite_store, 1)
    delivered_to_a_consumer_that_dies(redis_client, [envelope])
    consumer = consumer_for(sqlite_store, {SURVEYED: rejecting}, max_deliveries=3, backoff_seconds=0)

    with_redis(redis_url, lambda client: consumer.reclaim_once(client, min_idle_seconds=0))

    [(_id, fields)] = entries(redis_client, dead_letter_stream(GROUP))
    assert fields["delivery_count"] == "2"
    assert fields["detail"].startswith("EventRejected: not a designated institution")


def test_what_counts_as_an_infrastructure_failure() -> None:
    assert all(
        is_infrastructure_failure(error) for error in (DISK_FULL, DATABASE_DOWN, NO_SPACE, StoreBusy())
    )
    assert is_infrastructure_failure(redis.ConnectionError("Connection refused"))
    assert not is_infrastructure_failure(RuntimeError("a bug in the handler"))
    assert not is_infrastructure_failure(EventRejected("no"))
    assert not is_infrastructure_failure(ValueError("undecodable"))
