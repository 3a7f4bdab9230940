"""Order per aggregate: version n+1 is applied only after n; an early event is parked, never skipped."""

from __future__ import annotations

import json

import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload

from kernel.messaging.consumer import EventConsumer, EventRejected, Receipt, dead_letter_stream
from kernel.store.store import EventStore, UnitOfWork
from tests.kernel.consuming import (
    GROUP,
    STREAM,
    SURVEYED,
    applied,
    consumer_for,
    record_applied,
    registered_then_surveyed,
    surveys_of_one_person,
    with_redis,
)
from tests.kernel.test_consumer import run_consumer_while, wait_for
from tests.streams import add, entries


def deliver(redis_url: str, consumer: EventConsumer, envelopes: list[EventEnvelope]) -> list[bool]:
    """Hand each event to the consumer as a first delivery of a stream entry."""

    async def each(client: Redis) -> list[bool]:
        return [
            await consumer.handle_entry(client, STREAM, f"{index}-0", envelope.to_wire())
            for index, envelope in enumerate(envelopes, start=1)
        ]

    return with_redis(redis_url, each)


def dead_letters(redis_client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _id, fields in entries(redis_client, dead_letter_stream(GROUP))]


def test_an_event_before_its_predecessor_is_parked_acknowledged_and_applied_right_after_it(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store)

    assert deliver(redis_url, consumer, [first, third]) == [True, True]  # both may be acknowledged
    assert applied(sqlite_store) == [("person-1", 1)]
    assert consumer.health()["parked_now"] == 1

    deliver(redis_url, consumer, [second])
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2), ("person-1", 3)]
    assert consumer.health()["parked_now"] == 0


def test_a_service_handling_only_some_event_types_of_an_aggregate_still_applies_in_order(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    registered, surveyed = registered_then_surveyed(sqlite_store)
    consumer = consumer_for(sqlite_store, {SURVEYED: record_applied})  # no handler for registrations

    deliver(redis_url, consumer, [surveyed])
    assert applied(sqlite_store) == []
    deliver(redis_url, consumer, [registered])  # archived only, and it lets version 2 through
    assert applied(sqlite_store) == [("person-2", 2)]


def test_events_of_other_aggregates_are_not_held_up_by_a_parked_one(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    _first, early = surveys_of_one_person(sqlite_store, 2, "person-late")
    [other] = surveys_of_one_person(sqlite_store, 1, "person-other")
    consumer = consumer_for(sqlite_store)

    deliver(redis_url, consumer, [early, other])
    assert applied(sqlite_store) == [("person-other", 1)]


def test_a_parked_event_delivered_again_is_parked_once_and_applied_once(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = surveys_of_one_person(sqlite_store, 2)
    consumer = consumer_for(sqlite_store)

    deliver(redis_url, consumer, [second, second])
    assert consumer.health()["parked_now"] == 1
    deliver(redis_url, consumer, [first, second])
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]


def test_a_second_event_claiming_an_applied_version_is_dead_lettered_as_a_conflict(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [first] = surveys_of_one_person(sqlite_store, 1)
    impostor = first.model_copy(update={"event_id": surveys_of_one_person(sqlite_store, 1, "x")[0].event_id})
    consumer = consumer_for(sqlite_store)

    assert deliver(redis_url, consumer, [first, impostor]) == [True, True]
    assert applied(sqlite_store) == [("person-1", 1)]
    [letter] = dead_letters(redis_client)
    assert "EventConflict" in letter["detail"] and "version 1" in letter["detail"]


def test_the_same_event_id_with_other_content_is_dead_lettered_and_never_applied(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [first] = surveys_of_one_person(sqlite_store, 1)
    altered = first.model_copy(update={"payload": {**first.payload, "street": "礼嘉"}})
    consumer = consumer_for(sqlite_store)

    deliver(redis_url, consumer, [first, altered, first])
    assert applied(sqlite_store) == [("person-1", 1)]
    [letter] = dead_letters(redis_client)
    assert "applied before with other content" in letter["detail"]
    assert json.loads(letter["fields"])["event_id"] == str(first.event_id)


def test_a_parked_event_a_handler_rejects_is_dead_lettered_when_its_turn_comes(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    def rejects_version_two(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        if envelope.version == 2:
            raise EventRejected("needs surveyed twice in one day")
        record_applied(unit, envelope, payload)

    first, second, third = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store, {SURVEYED: rejects_version_two})

    deliver(redis_url, consumer, [third, second, first])
    assert applied(sqlite_store) == [("person-1", 1)]
    [letter] = dead_letters(redis_client)
    assert "surveyed twice" in letter["detail"]
    assert json.loads(letter["fields"])["version"] == "2"
    assert consumer.health()["parked_now"] == 1  # version 3 waits for a retry of version 2


def test_a_parked_event_whose_predecessor_was_applied_elsewhere_is_applied_by_the_reclaim_pass(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = surveys_of_one_person(sqlite_store, 2)
    consumer = consumer_for(sqlite_store)
    deliver(redis_url, consumer, [second])
    consumer_for(sqlite_store).receive(first, STREAM)  # another replica of the service

    with_redis(redis_url, consumer.drain_all_parked)
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]


def test_version_three_published_before_version_two_is_applied_after_it(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    for envelope in (first, third, second):
        add(redis_client, STREAM, envelope.to_wire())
    consumer = consumer_for(sqlite_store)

    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: len(applied(sqlite_store)) == 3))
    assert [version for _stream, version in applied(sqlite_store)] == [1, 2, 3]
    wait_for(lambda: redis_client.xpending(STREAM, GROUP)["pending"] == 0)


def test_apply_still_applies_at_once_whatever_the_version_for_handler_tests(
    sqlite_store: EventStore,
) -> None:
    _first, second = surveys_of_one_person(sqlite_store, 2)
    consumer = consumer_for(sqlite_store)
    assert consumer.apply(second, STREAM) is True
    assert consumer.apply(second, STREAM) is False
    assert consumer.receive(second, STREAM) is Receipt.DUPLICATE
    assert applied(sqlite_store) == [("person-1", 2)]
