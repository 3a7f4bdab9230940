"""The relay publishes the outbox's rows without building an envelope of each (``PendingEvent``): its
entries stay, byte for byte, the signed wire form of the envelope the store gives back for the same row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import redis
from redis.asyncio import Redis

from kernel.messaging.relay import OutboxRelay, stream_entry
from kernel.messaging.signing import KeyRing
from kernel.store.store import EventStore, NewEvent
from rehab.keys import ensure_keys
from tests.kernel.events import need_surveyed
from tests.streams import entries

STREAM = "rehab.survey.events"


def test_published_entries_are_the_signed_wire_form_of_the_stored_envelopes(
    store: EventStore, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    ensure_keys(tmp_path / "keys", ["survey"])
    keyring = KeyRing.from_directory(tmp_path / "keys", "survey")
    plain = need_surveyed()
    events = [
        plain,
        NewEvent(payload=plain.payload, occurred_at=datetime(2025, 3, 1, 9, 30, 0, 5, tzinfo=UTC)),
        NewEvent(
            payload=plain.payload,
            occurred_at=datetime(2025, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))),
            correlation_id=uuid4(),
            causation_id=uuid4(),
        ),
    ]
    with store.transaction() as unit:
        unit.append(f"person-{uuid4()}", 0, events)
    stored = store.unpublished(10)
    signing_key = keyring.current_signing_key()
    expected = [
        {name.decode(): value.decode() for name, value in stream_entry(event.envelope, signing_key).items()}
        for event in stored
    ]

    async def publish() -> int:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM, keyring=keyring)
        try:
            return await relay.publish_pending()
        finally:
            await relay.redis.aclose()

    assert asyncio.run(publish()) == 3
    published = [fields for _id, fields in entries(redis_client, STREAM)]
    assert [list(fields.items()) for fields in published] == [list(fields.items()) for fields in expected]
    assert {fields["causation_id"] for fields in published} == {"", str(events[2].causation_id)}
