"""``retry_for`` (the groups `rehab dlq retry` addresses a copy to) is not signed, so it is no pass: an entry
naming another group is passed by only once its signature verifies; unsigned or forged, it is dead-lettered
with its reason as any other entry, on a first delivery and when reconciliation finds it acknowledged by
someone else (security review F2). An event that breaks its contract and is not signed by its producer
either is dead-lettered as unsigned or forged, not as a contract breach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import ValidationError
from rehab_contracts import EventEnvelope

from kernel.messaging.dead_letters import RETRY_FOR
from kernel.messaging.signing import SignatureRejected
from rehab.keys import ensure_keys
from tests.kernel.consuming import with_redis
from tests.kernel.test_consumer import effect_count, run_consumer_while, wait_for
from tests.security.test_signed_events import (
    DEAD,
    STREAM,
    assessment,
    forgeries,
    signer,
    store_of,
    surveyed,
)
from tests.streams import add, entries


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ensure_keys(directory, ["survey", "assessment", "approval"])
    return directory


def codes(redis_client: redis.Redis) -> dict[str, str]:
    """The code of each dead letter, by the event id it carried."""
    letters = [fields for _id, fields in entries(redis_client, DEAD)]
    return {json.loads(f["fields"]).get("event_id", ""): f["code"] for f in letters}


def pending(redis_client: redis.Redis) -> int:
    return int(redis_client.xpending(STREAM, "assessment")["pending"])


def forged_codes(forged: dict[str, dict[str, str]]) -> dict[str, str]:
    return {fields["event_id"]: "event.signature_rejected" for fields in forged.values()}


def addressed_elsewhere(tmp_path: Path, keys: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Forgeries and one genuine signed event, each carrying retry_for naming a group that is not here."""
    scratch = store_of(tmp_path, "survey", "scratch")
    forged = {name: {**fields, RETRY_FOR: "nobody"} for name, fields in forgeries(scratch, keys).items()}
    [genuine] = [signer(keys, "survey").sign(event) for event in surveyed(scratch)]
    return forged, {**genuine.to_wire(), RETRY_FOR: "settlement,nobody"}


def test_a_forged_entry_naming_another_group_in_retry_for_is_dead_lettered_not_passed_by(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    forged, genuine = addressed_elsewhere(tmp_path, keys)
    for fields in forged.values():
        add(redis_client, STREAM, fields)
    add(redis_client, STREAM, genuine)

    store, consumer = assessment(tmp_path, keys)
    run_consumer_while(
        consumer,
        redis_url,
        lambda: wait_for(
            lambda: (
                redis_client.xlen(DEAD) == 4 and redis_client.xpending(STREAM, "assessment")["pending"] == 0
            )
        ),
    )

    assert codes(redis_client) == {
        fields["event_id"]: "event.signature_rejected" for fields in forged.values()
    }
    assert effect_count(store) == 0  # the genuine copy for other groups is passed by, as before
    assert with_redis(redis_url, consumer.reconcile_once) == 0  # every entry accounted for


def test_reconciliation_dead_letters_a_forged_entry_naming_another_group_that_someone_else_acknowledged(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    """As the approval Redis user: XADD a forgery with retry_for=nobody, read and acknowledge it in the
    assessment group; reconciliation handles it (dead-lettered), not as another group's retry."""
    forged, genuine = addressed_elsewhere(tmp_path, keys)
    store, consumer = assessment(tmp_path, keys)
    with_redis(redis_url, consumer.ensure_groups)
    for fields in forged.values():
        add(redis_client, STREAM, fields)
    add(redis_client, STREAM, genuine)
    taken: Any = redis_client.xreadgroup("assessment", "intruder", {STREAM: ">"}, count=10)
    read = [entry_id for entry_id, _fields in taken[0][1]]
    assert len(read) == 5
    redis_client.xack(STREAM, "assessment", *read)

    assert with_redis(redis_url, consumer.reconcile_once) == 4  # the forgeries, not the genuine copy
    assert codes(redis_client) == {
        fields["event_id"]: "event.signature_rejected" for fields in forged.values()
    }
    assert effect_count(store) == 0
    assert with_redis(redis_url, consumer.reconcile_once) == 0


def test_an_event_breaking_its_contract_is_dead_lettered_as_forged_unless_its_producer_signed_it(
    tmp_path: Path, keys: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    scratch = store_of(tmp_path, "survey", "scratch")
    unsigned, signed = surveyed(scratch, 2)
    broken: list[EventEnvelope] = []
    for event in (unsigned, signed):
        wire = event.to_wire()
        payload = json.loads(wire["payload"])
        del payload["person_id"]  # breaks the contract
        broken.append(EventEnvelope.from_wire({**wire, "payload": json.dumps(payload)}))
    forged, breach = broken[0], signer(keys, "survey").sign(broken[1])
    for envelope in (forged, breach):
        add(redis_client, STREAM, envelope.to_wire())

    store, consumer = assessment(tmp_path, keys)
    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: redis_client.xlen(DEAD) == 2))

    assert codes(redis_client) == {
        str(forged.event_id): "event.signature_rejected",
        str(breach.event_id): "event.invalid",  # survey signed it: a producer's bug, said as such
    }
    assert effect_count(store) == 0
    with pytest.raises(SignatureRejected):  # one by one (reclaim, reconciliation) as in a batch
        consumer.receive(forged, STREAM)
    with pytest.raises(ValidationError):
        consumer.receive(breach, STREAM)
