"""Signed events on a real Redis: the relay signs, a consumer with keys applies only what the producer
signed and dead-letters the rest with the reason; a rotated key still verifies the events it signed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope

from kernel.messaging.consumer import EventConsumer, Subscription, dead_letter_stream
from kernel.messaging.outcomes import Receipt
from kernel.messaging.relay import OutboxRelay
from kernel.messaging.signing import KeyRing, SigningKey, sign
from kernel.store.store import EventStore, create_store_engine
from rehab.keys import ensure_keys, rotate
from tests.kernel.events import need_surveyed
from tests.kernel.test_consumer import count_effect, effect_count, effects, run_consumer_while, wait_for
from tests.streams import add, entries

STREAM = "rehab.survey.events"
DEAD = dead_letter_stream("assessment")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ensure_keys(directory, ["survey", "assessment", "approval"])
    return directory


def store_of(tmp_path: Path, service: str, file: str | None = None) -> EventStore:
    url = f"sqlite:///{tmp_path / ((file or service) + '.db')}"
    store = EventStore(create_store_engine(url), producer=service)
    store.create_schema(effects)
    return store


def assessment(
    tmp_path: Path, keys: Path | None, name: str = "assessment"
) -> tuple[EventStore, EventConsumer]:
    store = store_of(tmp_path, "assessment", name)
    keyring = KeyRing.from_directory(keys, "assessment") if keys else None
    consumer = EventConsumer(
        store, "assessment", [Subscription(STREAM, {"survey.need_surveyed": count_effect})], keyring=keyring
    )
    return store, consumer


def surveyed(store: EventStore, count: int = 1) -> list[EventEnvelope]:
    """Events survey recorded (version 1 of new persons each), unsigned as the store keeps them."""
    with store.transaction() as unit:
        return [unit.append(f"person-{uuid4()}", 0, [need_surveyed()])[0] for _ in range(count)]


def publish(store: EventStore, redis_url: str, keys: Path) -> int:
    async def run() -> int:
        client = Redis.from_url(redis_url)
        try:
            relay = OutboxRelay(store, client, STREAM, keyring=KeyRing.from_directory(keys, "survey"))
            return await relay.publish_pending()
        finally:
            await client.aclose()

    return asyncio.run(run())


def reasons(redis_client: redis.Redis) -> dict[str, str]:
    """The technical reason (detail) of each dead letter, by the event id it carried."""
    letters = [fields for _id, fields in entries(redis_client, DEAD)]
    return {json.loads(f["fields"]).get("event_id", ""): f["detail"] for f in letters}


def signer(keys: Path, agency: str) -> KeyRing:
    return KeyRing.from_directory(keys, agency)


def signing_key(keys: Path, agency: str) -> SigningKey:
    """The agency's newest private key."""
    key = signer(keys, agency).signing_key
    assert key is not None, f"{agency} has no private key in {keys}"
    return key


def test_an_event_the_relay_signed_is_applied_by_a_consumer_that_verifies(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    survey = store_of(tmp_path, "survey")
    [event] = surveyed(survey)
    assert publish(survey, redis_url, keys) == 1
    [(_id, fields)] = entries(redis_client, STREAM)
    survey_key = signing_key(keys, "survey").key_id
    assert fields["signature"].startswith(f"ed25519:{survey_key}:")

    store, consumer = assessment(tmp_path, keys)
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: effect_count(store) == 1))
    assert redis_client.xlen(DEAD) == 0
    with store.transaction() as unit:
        [received] = unit.received()
    assert received.event_id == event.event_id and received.signature == fields["signature"]


def forgeries(survey: EventStore, keys: Path) -> dict[str, dict[str, str]]:
    """Stream entries claiming producer survey that survey did not sign as they stand."""
    genuine = [signer(keys, "survey").sign(event) for event in surveyed(survey, 4)]
    tampered = genuine[1].to_wire()
    payload = json.loads(tampered["payload"])
    tampered["payload"] = json.dumps({**payload, "surveyor": "someone else"}, ensure_ascii=False)
    stranger = sign(genuine[3], "survey-20990101T000000000000Z-abcdef", signing_key(keys, "approval").key)
    return {
        "unsigned": genuine[0].model_copy(update={"signature": None}).to_wire(),
        "tampered": tampered,
        "approval's key": signer(keys, "approval").sign(genuine[2]).to_wire(),
        "unknown key": stranger.to_wire(),
    }


def test_unsigned_tampered_or_wrongly_signed_events_are_dead_lettered_with_the_reason_and_not_applied(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    forged = forgeries(store_of(tmp_path, "survey", "scratch"), keys)  # never in survey's outbox
    survey = store_of(tmp_path, "survey")
    for fields in forged.values():
        add(redis_client, STREAM, fields)
    [good] = surveyed(survey)
    publish(survey, redis_url, keys)

    store, consumer = assessment(tmp_path, keys)
    run_consumer_while(
        consumer,
        redis_url,
        lambda: wait_for(lambda: redis_client.xlen(DEAD) == 4 and effect_count(store) == 1),
    )

    with store.transaction() as unit:
        assert [envelope.event_id for envelope in unit.received()] == [good.event_id]
    why = reasons(redis_client)
    assert "SignatureRejected: unsigned" in why[forged["unsigned"]["event_id"]]
    assert "changed after 'survey' signed it" in why[forged["tampered"]["event_id"]]
    assert (
        "of 'approval', but the event claims producer 'survey'" in why[forged["approval's key"]["event_id"]]
    )
    assert "unknown key 'survey-20990101T000000000000Z-abcdef'" in why[forged["unknown key"]["event_id"]]
    assert redis_client.xpending(STREAM, "assessment")["pending"] == 0


def test_without_keys_a_consumer_applies_unsigned_events_as_unit_and_api_tests_publish_them(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    [event] = surveyed(store_of(tmp_path, "survey"))
    add(redis_client, STREAM, event.to_wire())
    store, consumer = assessment(tmp_path, keys=None)
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: effect_count(store) == 1))
    assert redis_client.xlen(DEAD) == 0


def test_after_rotation_a_replay_from_the_start_verifies_old_and_new_events(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    survey = store_of(tmp_path, "survey")
    surveyed(survey)
    publish(survey, redis_url, keys)
    new_key = rotate(keys, "survey")
    surveyed(survey)
    publish(survey, redis_url, keys)
    signatures = [fields["signature"] for _id, fields in entries(redis_client, STREAM)]
    assert [signature.split(":")[1] == new_key for signature in signatures] == [False, True]

    store, consumer = assessment(tmp_path, keys, name="assessment-replica")  # a new consumer: whole stream
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: effect_count(store) == 2))
    assert redis_client.xlen(DEAD) == 0


def test_an_applied_event_republished_under_a_rotated_key_is_a_duplicate_not_a_conflict(
    tmp_path: Path, keys: Path
) -> None:
    [event] = surveyed(store_of(tmp_path, "survey"))
    first = signer(keys, "survey").sign(event)
    rotate(keys, "survey")
    again = signer(keys, "survey").sign(event)
    assert first.signature != again.signature
    store, consumer = assessment(tmp_path, keys)

    assert consumer.receive(first, STREAM) is Receipt.APPLIED
    assert consumer.receive(again, STREAM) is Receipt.DUPLICATE
    assert effect_count(store) == 1


def test_a_signed_event_on_another_producers_stream_is_refused(tmp_path: Path, keys: Path) -> None:
    [event] = surveyed(store_of(tmp_path, "survey"))
    store, consumer = assessment(tmp_path, keys)
    with pytest.raises(Exception, match=r"claims producer 'survey' but arrived on rehab\.approval\.events"):
        consumer.receive(signer(keys, "survey").sign(event), "rehab.approval.events")
    assert effect_count(store) == 0
