"""A producer whose outbox nobody publishes says so on ``/health`` (``outbox.stalled``), though its own relay
passes "succeed": another instance froze (SIGSTOP) inside its claim, holding the outbox, and this one's
claims come back empty. Before, survey-b answered 200 ready while its backlog grew."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import create_engine, text

from kernel.messaging import health
from kernel.messaging.health import OUTBOX_STALLED, readiness
from kernel.messaging.relay import OutboxRelay, RelayHealth
from kernel.store import outbox
from kernel.store.locks import scope_key
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.events import need_surveyed

STREAM = "rehab.survey.events"


@pytest.fixture
def store(empty_postgres_url: str) -> Iterator[EventStore]:
    engine = create_store_engine(empty_postgres_url)
    store = EventStore(engine, "survey")
    store.create_schema(service="survey")
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    yield store
    engine.dispose()


def test_a_service_whose_outbox_another_frozen_instance_holds_is_not_ready(
    store: EventStore, empty_postgres_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "OUTBOX_STALLED_SECONDS", 0.0)
    frozen = create_engine(empty_postgres_url).connect()  # the other instance, stopped inside its claim
    frozen.begin()
    frozen.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": scope_key("outbox:survey")})

    async def ask() -> tuple[int, list[tuple[str, str]], list[tuple[str, str]]]:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM)
        try:
            published = await relay.publish_pending()  # claims nothing: another instance holds the outbox
            relay.health.succeeded()
            first = await readiness(store, "survey", relay.redis, [STREAM], relay, None)
            await asyncio.sleep(0.05)
            later = await readiness(store, "survey", relay.redis, [STREAM], relay, None)
            return published, first, later
        finally:
            await relay.redis.aclose()

    try:
        published, first, later = asyncio.run(ask())
    finally:
        frozen.close()
        frozen.engine.dispose()

    assert published == 0
    assert first == []  # first seen now
    [(code, reason)] = later
    assert code == OUTBOX_STALLED
    assert reason.startswith("发件箱最早的未发布事件已")


def test_the_lowest_unpublished_event_counts_as_waiting_only_while_it_stays_the_same() -> None:
    relay = RelayHealth()
    assert relay.unpublished_for(7, now=100.0) == 0.0
    assert relay.unpublished_for(7, now=130.0) == 30.0
    assert relay.unpublished_for(9, now=131.0) == 0.0  # published meanwhile: the relay moves
    assert relay.unpublished_for(None, now=200.0) == 0.0
    assert relay.unpublished_for(9, now=time.monotonic()) == 0.0


def test_a_claim_a_frozen_instance_left_idle_is_ended_by_the_server_and_another_instance_publishes(
    store: EventStore, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim bounds itself (idle_in_transaction_session_timeout), whatever the role's settings say."""
    monkeypatch.setattr(outbox, "CLAIM_IDLE_LIMIT", "1s")
    frozen = store.claim_unpublished(10)  # the other instance, stopped inside its pass
    assert len(frozen.events) == 1

    async def publish() -> int:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM)
        try:
            return await relay.publish_pending()
        finally:
            await relay.redis.aclose()

    assert asyncio.run(publish()) == 0  # held
    time.sleep(1.5)
    assert asyncio.run(publish()) == 1  # the server ended the frozen claim
    with contextlib.suppress(Exception):  # its connection is gone
        frozen.release()
