"""An entry whose bytes are not UTF-8 cannot be decoded: dead-lettered at once on the batch path and one
by one alike (never applied with its bytes replaced), while the rest of its read applies."""

from __future__ import annotations

import redis
from redis.asyncio import Redis

from kernel.store.store import EventStore
from tests.kernel.consuming import STREAM, applied, consumer_for, surveys_of_one_person, with_redis
from tests.kernel.test_batches import dead_letters


def as_read(fields: dict[str, str]) -> dict[bytes, bytes]:
    return {key.encode(): value.encode() for key, value in fields.items()}


def test_an_entry_that_is_not_utf8_is_dead_lettered_in_a_batch_and_the_others_apply(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = surveys_of_one_person(sqlite_store, 2)
    broken = as_read(second.to_wire())
    broken[b"stream_id"] = b"person-\xff"
    consumer = consumer_for(sqlite_store)
    read = [("1-0", as_read(first.to_wire())), ("2-0", broken)]

    async def handle(client: Redis) -> list[str]:
        return await consumer.handle_batch(client, STREAM, read)

    assert sorted(with_redis(redis_url, handle)) == ["1-0", "2-0"]  # both acknowledged
    assert applied(sqlite_store) == [("person-1", 1)]
    [letter] = dead_letters(redis_client)
    assert letter["source_entry_id"] == "2-0"
    assert "UnicodeDecodeError" in letter["detail"]


def test_an_entry_that_is_not_utf8_is_dead_lettered_one_by_one(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [event] = surveys_of_one_person(sqlite_store, 1)
    broken = as_read(event.to_wire())
    broken[b"producer"] = b"\xffsurvey"
    consumer = consumer_for(sqlite_store)

    async def handle(client: Redis) -> bool:
        return await consumer.handle_entry(client, STREAM, "1-0", broken)

    assert with_redis(redis_url, handle) is True
    assert applied(sqlite_store) == []
    [letter] = dead_letters(redis_client)
    assert "UnicodeDecodeError" in letter["detail"]
