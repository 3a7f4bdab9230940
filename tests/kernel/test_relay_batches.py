"""A relay pass: full batches one after another, and no claim after the short batch that ends them."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis.asyncio import Redis

from kernel.messaging.relay import OutboxRelay
from kernel.store.outbox import OutboxClaim
from kernel.store.store import EventStore
from tests.kernel.events import need_surveyed
from tests.streams import entries

STREAM = "rehab.survey.events"


def claims_of_one_pass(
    store: EventStore, redis_url: str, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, list[int]]:
    """(events published, size of each claim) of one ``publish_pending``."""
    claimed: list[int] = []
    claim_unpublished = store.claim_unpublished

    def counted(limit: int) -> OutboxClaim:
        claim = claim_unpublished(limit)
        claimed.append(len(claim.events))
        return claim

    monkeypatch.setattr(store, "claim_unpublished", counted)

    async def once() -> int:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM, batch_size=batch_size)
        try:
            return await relay.publish_pending()
        finally:
            await relay.redis.aclose()

    return asyncio.run(once()), claimed


@pytest.mark.parametrize(("events", "claims"), [(5, [2, 2, 1]), (4, [2, 2, 0]), (1, [1]), (0, [0])])
def test_a_pass_claims_batches_until_one_comes_back_short(
    events: int,
    claims: list[int],
    sqlite_store: EventStore,
    redis_url: str,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if events:
        with sqlite_store.transaction() as unit:
            unit.append("person-1", 0, [need_surveyed() for _ in range(events)])

    assert claims_of_one_pass(sqlite_store, redis_url, 2, monkeypatch) == (events, claims)
    assert [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)] == list(
        range(1, events + 1)
    )
    assert sqlite_store.counts()["unpublished"] == 0
