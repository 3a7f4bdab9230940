"""`rehab dlq retry` publishes a dead letter again for the group that dead-lettered it: the source stream
is shared, and the other groups pass the copy by instead of dead-lettering it a second time; an entry that
was not UTF-8 is not published again with U+FFFD in place of its bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from faststream.redis import RedisBroker
from redis.asyncio import Redis

from kernel.messaging.consumer import EventConsumer, Subscription, dead_letter_stream
from kernel.messaging.dead_letters import RETRY_FOR, DeadLetter
from kernel.store.store import EventStore, create_store_engine
from rehab.cli import main
from rehab.dlq import CannotRetry, retry, retry_all
from tests.kernel.consuming import (
    STREAM,
    SURVEYED,
    applied,
    applied_metadata,
    surveys_of_one_person,
    with_redis,
)
from tests.kernel.test_consumer import wait_for
from tests.kernel.test_dlq import SwitchableHandler
from tests.streams import add, entries


def run_consumers_while(consumers: list[EventConsumer], redis_url: str, action: Callable[[], object]) -> None:
    async def run() -> None:
        client = Redis.from_url(redis_url)
        broker = RedisBroker(redis_url)
        for consumer in consumers:
            await consumer.ensure_groups(client)
            consumer.register(broker, client)
        await broker.start()
        try:
            await asyncio.to_thread(action)
        finally:
            await broker.stop()
            await client.aclose()

    asyncio.run(run())


def consumer_of(store: EventStore, service: str, handler: SwitchableHandler) -> EventConsumer:
    store.create_schema(applied_metadata)
    return EventConsumer(store, service, [Subscription(STREAM, {SURVEYED: handler})])


def letters(redis_client: redis.Redis, service: str) -> list[DeadLetter]:
    return [DeadLetter.from_entry(*entry) for entry in entries(redis_client, dead_letter_stream(service))]


def caught_up(redis_client: redis.Redis, group: str) -> bool:
    [info] = [info for info in redis_client.xinfo_groups(STREAM) if info["name"] in (group, group.encode())]
    return bool(info["entries-read"] == redis_client.xlen(STREAM) and info["pending"] == 0)


def test_retrying_one_services_dead_letters_does_not_make_another_service_dead_letter_them_again(
    sqlite_store: EventStore, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    """The audit: retry --all --service settlement took assessment's dead letters from 12 to 24."""
    settlement_store = EventStore(
        create_store_engine(f"sqlite:///{tmp_path / 'settlement.db'}"), "settlement"
    )
    settlement_store.create_schema()
    assessment_rule, settlement_rule = SwitchableHandler(), SwitchableHandler()
    assessment = consumer_of(sqlite_store, "assessment", assessment_rule)
    settlement = consumer_of(settlement_store, "settlement", settlement_rule)
    events = surveys_of_one_person(sqlite_store, 1) + surveys_of_one_person(sqlite_store, 1, "person-2")
    for envelope in events:
        add(redis_client, STREAM, envelope.to_wire())

    def both_refuse_then_settlement_is_fixed_and_retried() -> None:
        wait_for(
            lambda: len(letters(redis_client, "assessment")) == len(letters(redis_client, "settlement")) == 2
        )
        settlement_rule.fixed = True
        assert main(["dlq", "retry", "--all", "--service", "settlement", "--redis-url", redis_url]) == 0
        wait_for(lambda: len(applied(settlement_store)) == 2)
        wait_for(lambda: caught_up(redis_client, "assessment") and caught_up(redis_client, "settlement"))

    run_consumers_while([assessment, settlement], redis_url, both_refuse_then_settlement_is_fixed_and_retried)

    assert len(letters(redis_client, "assessment")) == 2  # still its own two, not four
    assert letters(redis_client, "settlement") == []
    copies = [fields for _id, fields in entries(redis_client, STREAM)][2:]
    assert [fields[RETRY_FOR] for fields in copies] == ["settlement", "settlement"]
    assert applied(sqlite_store) == []  # assessment's rule still refuses: its dead letters wait for it
    # Reconciliation takes the copies assessment passed by for what they are, not for entries taken.
    assert with_redis(redis_url, assessment.reconcile_once) == 0
    assert len(letters(redis_client, "assessment")) == 2

    # assessment's own retry, once fixed, reaches assessment (and settlement passes it by: applied already)
    assessment_rule.fixed = True
    assert retry_all(redis_client, ["assessment"]).events == 2
    run_consumers_while(
        [assessment, settlement],
        redis_url,
        lambda: wait_for(lambda: len(applied(sqlite_store)) == 2 and caught_up(redis_client, "settlement")),
    )
    assert letters(redis_client, "assessment") == letters(redis_client, "settlement") == []
    assert len(applied(settlement_store)) == 2


def test_an_event_two_services_dead_lettered_is_published_once_for_both(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    for service in ("assessment", "settlement"):
        fields = {"source_stream": STREAM, "consumer_group": service, "reason": "x"}
        add(redis_client, dead_letter_stream(service), {**fields, "fields": json.dumps(envelope.to_wire())})

    assert retry_all(redis_client, ["assessment", "settlement"]).events == 1

    [(_id, copy)] = entries(redis_client, STREAM)
    assert copy[RETRY_FOR] == "assessment,settlement"


def test_a_dead_letter_of_an_entry_that_was_not_utf8_is_not_published_again_with_other_bytes(
    sqlite_store: EventStore, tmp_path: Path, redis_url: str, redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    raw = {name.encode(): value.encode() for name, value in envelope.to_wire().items()}
    add(redis_client, STREAM, {**raw, b"payload": b'{"street": "\xff\xfe"}'})
    consumer = consumer_of(sqlite_store, "assessment", SwitchableHandler())
    run_consumers_while(
        [consumer], redis_url, lambda: wait_for(lambda: len(letters(redis_client, "assessment")) == 1)
    )
    [letter] = letters(redis_client, "assessment")
    assert letter.code == "entry.not_utf8"

    with pytest.raises(CannotRetry, match="不是 UTF-8 文本"):
        retry(redis_client, "assessment", letter.id)
    assert main(["dlq", "retry", letter.id, "--service", "assessment", "--redis-url", redis_url]) == 1
    assert "不能重新投递：原条目不是 UTF-8 文本" in capsys.readouterr().err
    assert main(["dlq", "retry", "--all", "--redis-url", redis_url]) == 1
    assert f"assessment 的死信 {letter.id} 未重新投递，留在原处" in capsys.readouterr().err

    assert redis_client.xlen(STREAM) == 1  # nothing published
    assert [kept.id for kept in letters(redis_client, "assessment")] == [letter.id]


def test_a_retried_event_dead_lettered_again_is_not_taken_for_an_entry_another_client_took(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """Retried before reconciliation passed the original: its dead letter is gone with the retry, and the
    copy's stands for it (seen on a deployment: settlement's 3 dead letters became 6)."""
    consumer = consumer_of(sqlite_store, "assessment", SwitchableHandler())
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    add(redis_client, STREAM, envelope.to_wire())

    def dead_lettered_then_retried_and_dead_lettered_again() -> None:
        wait_for(lambda: len(letters(redis_client, "assessment")) == 1)
        retry(redis_client, "assessment", letters(redis_client, "assessment")[0].id)
        wait_for(
            lambda: caught_up(redis_client, "assessment") and len(letters(redis_client, "assessment")) == 1
        )

    run_consumers_while([consumer], redis_url, dead_lettered_then_retried_and_dead_lettered_again)

    assert with_redis(redis_url, consumer.reconcile_once) == 0
    [letter] = letters(redis_client, "assessment")
    assert letter.fields[RETRY_FOR] == "assessment"  # the copy's dead letter, the only one
