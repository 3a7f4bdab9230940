"""Entries that can never be applied go to the dead letters on their first delivery, with the reason."""

from __future__ import annotations

import json

import redis
from rehab_contracts import EventEnvelope

from kernel.messaging.consumer import dead_letter_stream
from kernel.messaging.dead_letters import DeadLetter
from kernel.store.store import EventStore
from tests.kernel.consuming import GROUP, STREAM, applied, consumer_for, surveys_of_one_person
from tests.kernel.test_consumer import run_consumer_while, wait_for
from tests.streams import add, entries


def test_an_unknown_type_a_future_schema_and_a_broken_contract_are_dead_lettered_at_once_each_with_its_reason(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    unknown, future, broken = surveys_of_one_person(sqlite_store, 3)
    poison: list[EventEnvelope] = [
        unknown.model_copy(update={"event_type": "survey.person_teleported"}),
        future.model_copy(update={"schema_version": 99}),
        broken.model_copy(update={"payload": {**broken.payload, "needed_items": "not a list"}}),
    ]
    other = surveys_of_one_person(sqlite_store, 1, "person-good")[0]
    for envelope in [*poison, other]:
        add(redis_client, STREAM, envelope.to_wire())
    consumer = consumer_for(sqlite_store)
    dead = dead_letter_stream(GROUP)

    run_consumer_while(consumer, redis_url, lambda: wait_for(lambda: redis_client.xlen(dead) == 3))
    letters = [DeadLetter.from_entry(*entry) for entry in entries(redis_client, dead)]
    reasons = [letter.detail for letter in letters]
    assert reasons[0].startswith("UnknownEventType")
    assert reasons[1].startswith("UnsupportedSchemaVersion")
    assert reasons[2].startswith("ValidationError")
    assert all(letter.delivery_count == 1 and letter.consumer_group == GROUP for letter in letters)
    assert all(letter.source_stream == STREAM and letter.source_entry_id for letter in letters)
    assert [letter.event_id for letter in letters] == [str(envelope.event_id) for envelope in poison]
    assert json.loads(letters[1].fields["payload"]) == future.payload
    assert applied(sqlite_store) == [("person-good", 1)]  # the good one is not blocked
    assert redis_client.xpending(STREAM, GROUP)["pending"] == 0
