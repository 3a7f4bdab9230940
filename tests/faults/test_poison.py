"""Poison events among many good ones on the survey stream: events survey recorded that its
consumers cannot apply (a type they do not know, a schema version newer than theirs). Each is
dead-lettered at once with the reason; the good ones around them are all applied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

import pytest
import redis
from rehab_contracts import SURVEY_STREAM, EventPayload, NeedSurveyed

from kernel.messaging.dead_letters import DeadLetter, dead_letter_stream
from kernel.store.store import EventStore, NewEvent, create_store_engine
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    assert_nothing_lost_nor_paid_twice,
    count,
    expect_dead_letters,
    verify,
    wait_clean,
)
from tests.streams import entries

pytestmark = pytest.mark.e2e

GOOD = 100


class PersonMerged(EventPayload):
    """An event type of a newer survey release that no consumer knows yet."""

    event_type: ClassVar[str] = "survey.person_merged"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = "survey"

    merged_into: str


def record_in_survey(deployment: Deployment, payload: EventPayload) -> str:
    """Record an event in survey's own store (as a newer release of survey would); its relay publishes it."""
    engine = create_store_engine(f"sqlite:///{deployment.services.var_dir / 'survey.db'}")
    try:
        with EventStore(engine, producer="survey").transaction() as unit:
            [envelope] = unit.append(f"person-{uuid4()}", 0, [NewEvent(payload, datetime.now(UTC))])
    finally:
        engine.dispose()
    return str(envelope.event_id)


def future_survey() -> EventPayload:
    class NeedSurveyedV9(NeedSurveyed):
        schema_version: ClassVar[int] = 9

    return NeedSurveyedV9.model_construct(**{name: None for name in NeedSurveyed.model_fields})


def dead_letters(deployment: Deployment, service: str) -> dict[str, DeadLetter]:
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    try:
        found = entries(client, dead_letter_stream(service))
    finally:
        client.close()
    letters = (DeadLetter.from_entry(entry_id, fields) for entry_id, fields in found)
    return {letter.event_id: letter for letter in letters}


def test_poison_events_are_dead_lettered_with_a_reason_and_the_good_ones_around_them_applied(
    deployment: Deployment,
) -> None:
    journey = deployment.journey
    before = count(verify(deployment), "I3", "dead-lettered (not applied)")
    poison = {}
    for n in range(GOOD):
        if n == GOOD // 3:
            poison["unknown type"] = record_in_survey(deployment, PersonMerged(merged_into=str(uuid4())))
        if n == 2 * GOOD // 3:
            poison["future schema"] = record_in_survey(deployment, future_survey())
        journey.register(certified_adult(100 + n, street="鸳鸯"))
    expect_dead_letters(*poison.values())

    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    # Each poison event, for each of survey's two subscribers, is reported as dead-lettered, with its
    # reason, and nothing else is: `rehab verify` calls a dead letter not ok (issue 14).
    assert count(results, "I3", "dead-lettered (not applied)") - before == 2 * len(poison)
    [consumed] = [result for result in results if result.code == "I3"]
    assert {violation.split("事件 ")[1].split("（")[0] for violation in consumed.violations} == set(
        poison.values()
    )
    assert all("event.unknown_type" in v or "event.future_schema" in v for v in consumed.violations)
    for service in ("assessment", "settlement"):
        letters = dead_letters(deployment, service)
        assert "UnknownEventType" in letters[poison["unknown type"]].detail
        assert "UnsupportedSchemaVersion" in letters[poison["future schema"]].detail
        assert letters[poison["unknown type"]].delivery_count == 1  # at once, not after retries
