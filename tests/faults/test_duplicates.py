"""The same event on a stream twice (a relay or a producer retrying): applied once. The same event
id with other content: reported as a conflict (dead-lettered), never applied."""

from __future__ import annotations

import json

import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from kernel.messaging.dead_letters import DeadLetter, dead_letter_stream
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import assert_nothing_lost_nor_paid_twice, postings_for, wait_clean
from tests.streams import add, entries

pytestmark = pytest.mark.e2e


def surveyed_person(deployment: Deployment, sequence: int, street: str) -> tuple[str, str]:
    journey = deployment.journey
    person_id = journey.register(certified_adult(sequence, street=street, category="mental", digit=6))
    survey_id = journey.survey(person_id, ["support_service_mental"])
    wait_clean(deployment)
    return person_id, survey_id


def entry_of(client: redis.Redis, event_id: str) -> dict[str, str]:
    return next(fields for _id, fields in entries(client, SURVEY_STREAM) if fields["event_id"] == event_id)


def test_an_event_published_twice_is_applied_once(deployment: Deployment) -> None:
    person_id, survey_id = surveyed_person(deployment, 41, "金山")
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    add(client, SURVEY_STREAM, entry_of(client, survey_id))
    client.close()

    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    assert len(postings_for(deployment, person_id)) == 1


def test_the_same_event_id_with_other_content_is_dead_lettered_as_a_conflict_and_not_applied(
    deployment: Deployment,
) -> None:
    person_id, survey_id = surveyed_person(deployment, 42, "康美")
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    forged = entry_of(client, survey_id)
    payload = json.loads(forged["payload"])
    payload["surveyor"] = "someone else"
    add(client, SURVEY_STREAM, {**forged, "payload": json.dumps(payload, ensure_ascii=False)})

    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    for service in ("assessment", "settlement"):
        letters = [DeadLetter.from_entry(i, f) for i, f in entries(client, dead_letter_stream(service))]
        [conflict] = [letter for letter in letters if letter.event_id == survey_id]
        assert "EventConflict" in conflict.detail
    client.close()
    assert len(postings_for(deployment, person_id)) == 1  # and I3: archived as survey recorded it
