"""Entries read in bounded batches and applied in one transaction, with every guarantee of one-by-one:
a duplicate has one effect, a rejected event is dead-lettered while the rest apply, an early event
waits for its predecessor, a failing store spends no delivery budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from kernel.messaging import ordering
from kernel.messaging.consumer import EventConsumer, EventRejected, dead_letter_stream
from kernel.messaging.signing import KeyRing
from kernel.store.store import EventStore, UnitOfWork, create_store_engine
from rehab.keys import ensure_keys
from tests.kernel.consuming import (
    GROUP,
    REGISTERED,
    STREAM,
    SURVEYED,
    applied,
    consumer_for,
    record_applied,
    surveys_of_one_person,
    with_redis,
)
from tests.kernel.test_consumer import run_consumer_while, wait_for
from tests.streams import add, entries


def in_one_batch(redis_url: str, consumer: EventConsumer, envelopes: list[EventEnvelope]) -> list[str]:
    """Hand the events to the consumer as one read of first deliveries; the ids it may acknowledge."""
    batch = [(f"{index}-0", envelope.to_wire()) for index, envelope in enumerate(envelopes, start=1)]

    async def handle(client: Redis) -> list[str]:
        return await consumer.handle_batch(client, STREAM, batch)

    return with_redis(redis_url, handle)


def dead_letters(redis_client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _id, fields in entries(redis_client, dead_letter_stream(GROUP))]


def test_a_batch_with_a_duplicate_applies_each_event_once_and_acknowledges_every_entry(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store)
    in_one_batch(redis_url, consumer, [first])

    done = in_one_batch(redis_url, consumer, [first, second, second, third])  # redelivered, and twice in it

    assert done == ["1-0", "2-0", "3-0", "4-0"]
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2), ("person-1", 3)]
    assert dead_letters(redis_client) == []


def test_a_batch_with_a_rejected_event_applies_the_others_and_dead_letters_it_with_the_reason(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    good, refused, other = (surveys_of_one_person(sqlite_store, 1, f"person-{n}")[0] for n in (1, 2, 3))

    def refuse_person_2(unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        if envelope.stream_id == "person-2":
            raise EventRejected("person-2 is not known here")
        record_applied(unit, envelope, payload)

    consumer = consumer_for(sqlite_store, {SURVEYED: refuse_person_2})

    done = in_one_batch(redis_url, consumer, [good, refused, other])

    assert done == ["1-0", "2-0", "3-0"]
    assert applied(sqlite_store) == [("person-1", 1), ("person-3", 1)]
    [letter] = dead_letters(redis_client)
    assert letter["source_entry_id"] == "2-0"
    assert "person-2 is not known here" in letter["detail"]
    with sqlite_store.reading() as unit:
        assert not unit.has_received(refused.event_id)  # nothing of it recorded


def test_a_batch_with_a_version_taken_by_another_event_dead_letters_only_the_conflict(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = surveys_of_one_person(sqlite_store, 2)
    impostor = second.model_copy(update={"event_id": first.event_id.__class__(int=second.event_id.int + 1)})
    consumer = consumer_for(sqlite_store)

    done = in_one_batch(redis_url, consumer, [first, second, impostor])

    assert done == ["1-0", "2-0", "3-0"]
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]
    [letter] = dead_letters(redis_client)
    assert "version 2 was already applied" in letter["detail"]


def test_a_batch_with_events_out_of_order_applies_them_in_version_order(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    other = surveys_of_one_person(sqlite_store, 1, "person-9")[0]
    consumer = consumer_for(sqlite_store)

    done = in_one_batch(redis_url, consumer, [third, other, first, second])

    assert done == ["1-0", "2-0", "3-0", "4-0"]
    assert applied(sqlite_store) == [("person-9", 1), ("person-1", 1), ("person-1", 2), ("person-1", 3)]
    assert consumer.health()["parked_now"] == 0
    assert consumer.stats.parked == 1 and consumer.stats.unparked == 1


def test_an_early_event_of_a_batch_waits_parked_for_a_predecessor_of_a_later_batch(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second, third = surveys_of_one_person(sqlite_store, 3)
    consumer = consumer_for(sqlite_store)

    assert in_one_batch(redis_url, consumer, [first, third, third]) == ["1-0", "2-0", "3-0"]
    assert applied(sqlite_store) == [("person-1", 1)]
    assert consumer.health()["parked_now"] == 1

    in_one_batch(redis_url, consumer, [second])
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2), ("person-1", 3)]
    assert consumer.health()["parked_now"] == 0


def test_a_failing_store_leaves_the_whole_batch_pending_without_spending_its_delivery_budget(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 3)

    def disk_full(_unit: UnitOfWork, _envelope: EventEnvelope, _payload: EventPayload) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    consumer = consumer_for(sqlite_store, {SURVEYED: disk_full}, backoff_seconds=0.01)

    assert in_one_batch(redis_url, consumer, envelopes) == []  # nothing acknowledged
    assert consumer.stats.infrastructure_failures == 3
    assert consumer.backoff.failures == 1  # one back-off for the batch, not one per entry
    assert consumer.infrastructure.budget_spent(STREAM, "2-0", deliveries=1) == 0
    assert dead_letters(redis_client) == []


def test_a_backlog_larger_than_a_read_is_consumed_in_bounded_batches_each_acknowledged(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    envelopes = surveys_of_one_person(sqlite_store, 25)
    consumer = consumer_for(sqlite_store, max_records=10)
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for envelope in envelopes:
        add(redis_client, STREAM, envelope.to_wire())
    reads: list[int] = []
    handle_batch = consumer.handle_batch

    async def counting(client: Redis, stream: str, batch: Any) -> list[str]:
        reads.append(len(batch))
        return await handle_batch(client, stream, batch)

    consumer.handle_batch = counting  # type: ignore[method-assign,assignment]

    def all_acknowledged() -> None:
        wait_for(lambda: len(applied(sqlite_store)) == 25)
        wait_for(lambda: redis_client.xpending(STREAM, GROUP)["pending"] == 0)

    run_consumer_while(consumer, redis_url, all_acknowledged)
    assert [version for _stream, version in applied(sqlite_store)] == list(range(1, 26))
    assert max(reads) <= 10 and sum(reads) == 25


def test_the_inbox_of_an_older_store_gains_its_version_column_and_its_rows_are_read_from_the_envelope(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = surveys_of_one_person(sqlite_store, 2)
    consumer = consumer_for(sqlite_store, {REGISTERED: record_applied, SURVEYED: record_applied})
    in_one_batch(redis_url, consumer, [first])
    with sqlite_store.engine.begin() as connection:  # as an older release wrote it: no version
        connection.execute(text("UPDATE inbox SET version = NULL"))
        envelope = connection.execute(text("SELECT envelope FROM inbox")).scalar_one()
    assert json.loads(envelope)["version"] == 1

    with sqlite_store.reading() as unit:
        assert ordering.seen_versions(unit.session, STREAM, "person-1") == {1}
    in_one_batch(redis_url, consumer, [second])
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]


def test_a_store_created_before_the_version_column_gains_it(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE inbox (position INTEGER PRIMARY KEY AUTOINCREMENT, "
                "event_id VARCHAR(36) NOT NULL UNIQUE, source_stream VARCHAR(100) NOT NULL, "
                "event_type VARCHAR(100) NOT NULL, stream_id VARCHAR(200) NOT NULL, "
                "occurred_at DATETIME NOT NULL, received_at DATETIME NOT NULL, envelope TEXT NOT NULL)"
            )
        )
    EventStore(engine, "assessment").create_schema()
    EventStore(engine, "assessment").create_schema()  # twice: nothing to add the second time
    with engine.connect() as connection:
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(inbox)"))]
        indexes = [row[1] for row in connection.execute(text("PRAGMA index_list(inbox)"))]
    assert "version" in columns
    assert "ix_inbox_aggregate_version" in indexes


def test_a_signed_batch_applies_its_good_events_dead_letters_the_forged_one_and_lets_a_duplicate_through(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    ensure_keys(keys, ["survey", GROUP])
    survey = KeyRing.from_directory(keys, "survey")
    first, second = (survey.sign(envelope) for envelope in surveys_of_one_person(sqlite_store, 2))
    forged = survey.sign(surveys_of_one_person(sqlite_store, 1, "person-2")[0])
    forged = forged.model_copy(update={"payload": {**forged.payload, "surveyor": "someone else"}})
    consumer = consumer_for(sqlite_store, keyring=KeyRing.from_directory(keys, GROUP))
    in_one_batch(redis_url, consumer, [first])
    unsigned_again = first.model_copy(update={"signature": None})  # a duplicate is not checked again

    done = in_one_batch(redis_url, consumer, [unsigned_again, forged, second])

    assert done == ["1-0", "2-0", "3-0"]
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]
    [letter] = dead_letters(redis_client)
    assert letter["source_entry_id"] == "2-0" and "does not match the envelope" in letter["detail"]
