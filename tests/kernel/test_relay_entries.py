"""What the relay XADDs: the contract's wire form of each event, signed with the agency's current key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope

from kernel.messaging.relay import OutboxRelay, stream_entry
from kernel.messaging.signing import KeyRing, sign
from kernel.store.store import EventStore
from rehab.keys import ensure_keys, revoke, rotate
from tests.kernel.events import need_surveyed
from tests.streams import entries

STREAM = "rehab.survey.events"


def envelope(**changes: object) -> EventEnvelope:
    base = EventEnvelope(
        event_id=uuid4(),
        event_type="survey.need_surveyed",
        schema_version=1,
        occurred_at=datetime(2025, 5, 20, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        recorded_at=datetime(2025, 5, 20, 1, 30, 0, 123456, tzinfo=UTC),
        producer="survey",
        stream_id="person-7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f",
        version=3,
        correlation_id=UUID("0193aaaa-0000-7000-8000-000000000001"),
        payload={"street": "鸳鸯", "amount_fen": 100000, "items": [{"mode": "free", "item": "训练"}]},
    )
    return base.model_copy(update=changes)


ENVELOPES = [
    envelope(),
    envelope(causation_id=uuid4(), payload={}),
    envelope(signature="ed25519:old-key:AAAA", payload={"note": 'quote " and \\ and \n', "n": None}),
    envelope(recorded_at=datetime(2025, 5, 20, 1, 30, tzinfo=UTC), payload={"b": 1.5, "a": [True, False]}),
]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ensure_keys(directory, ["survey"])
    return directory


def text(entry: dict[bytes, bytes]) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in entry.items()}


@pytest.mark.parametrize("event", ENVELOPES)
def test_a_signed_entry_is_the_wire_form_of_the_signed_envelope_field_for_field(
    event: EventEnvelope, keys: Path
) -> None:
    signing_key = KeyRing.from_directory(keys, "survey").current_signing_key()
    signed = sign(event, signing_key.key_id, signing_key.key)
    assert list(text(stream_entry(event, signing_key)).items()) == list(signed.to_wire().items())


@pytest.mark.parametrize("event", ENVELOPES)
def test_an_unsigned_entry_is_the_wire_form_of_the_envelope_as_stored(event: EventEnvelope) -> None:
    assert list(text(stream_entry(event, None)).items()) == list(event.to_wire().items())


def published_key_ids(store: EventStore, keyring: KeyRing, redis_url: str, client: redis.Redis) -> list[str]:
    """Commit one event, publish it with a relay holding ``keyring``; the key ids of every entry so far
    (the last one checked by a consumer's key ring)."""

    async def once() -> None:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM, keyring=keyring)
        try:
            assert await relay.publish_pending() == 1
        finally:
            await relay.redis.aclose()

    with store.transaction() as unit:
        unit.append(f"person-{uuid4()}", 0, [need_surveyed()])
    asyncio.run(once())
    published = [EventEnvelope.from_wire(fields) for _id, fields in entries(client, STREAM)]
    assert keyring.directory is not None
    KeyRing.from_directory(keyring.directory).verify(published[-1])
    return [(event.signature or "").split(":")[1] for event in published]


def test_a_running_relay_signs_with_a_key_rotated_after_it_started_and_never_with_a_revoked_one(
    sqlite_store: EventStore, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    keyring = KeyRing.from_directory(keys, "survey")
    first = keyring.current_signing_key().key_id
    assert published_key_ids(sqlite_store, keyring, redis_url, redis_client) == [first]

    second = rotate(keys, "survey")
    assert published_key_ids(sqlite_store, keyring, redis_url, redis_client)[-1] == second

    revoke(keys, "survey", second)  # creates the folder's revoked file
    assert published_key_ids(sqlite_store, keyring, redis_url, redis_client)[-1] == first

    third = rotate(keys, "survey")
    assert published_key_ids(sqlite_store, keyring, redis_url, redis_client)[-1] == third
    revoke(keys, "survey", third)  # appends to it: the folder itself does not change
    assert published_key_ids(sqlite_store, keyring, redis_url, redis_client)[-1] == first
