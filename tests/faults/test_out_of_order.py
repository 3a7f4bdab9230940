"""Version 3 of an aggregate on the stream before version 2, across the real processes: assessment
and settlement park version 3, apply version 2 when it arrives, then version 3; nothing is skipped."""

from __future__ import annotations

from functools import partial

import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from kernel.store.store import EventStore, create_store_engine
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    assert_nothing_lost_nor_paid_twice,
    consumer_health,
    cut_off_from_redis,
    settled_once_each,
    wait_clean,
    wait_until,
)
from tests.streams import entries

pytestmark = pytest.mark.e2e

SUBSCRIBERS = ("assessment", "settlement")


def parks(deployment: Deployment, service: str) -> bool:
    return consumer_health(deployment, service)["parked_now"] >= 1


def survey_store(deployment: Deployment) -> EventStore:
    return EventStore(create_store_engine(f"sqlite:///{deployment.services.var_dir / 'survey.db'}"), "survey")


def first_entry_id(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        [(entry_id, _fields)] = entries(client, SURVEY_STREAM, count=1)
    finally:
        client.close()
    return str(entry_id)


def count_one_more_add(redis_url: str) -> None:
    """Raise the stream's entries-added by one without adding an entry (XSETID … ENTRIESADDED)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        info = client.xinfo_stream(SURVEY_STREAM)
        client.execute_command(
            "XSETID", SURVEY_STREAM, info["last-generated-id"], "ENTRIESADDED", int(info["entries-added"]) + 1
        )
    finally:
        client.close()


def three_versions(deployment: Deployment) -> tuple[str, int]:
    """Register, survey and correct one person (versions 1-3); returns the person and version 2's position."""
    journey = deployment.journey
    person_id = journey.register(certified_adult(541, street="人和", category="mental", digit=6))
    journey.survey(person_id, ["support_service_mental"])
    journey.post(
        "survey",
        f"/persons/{person_id}/corrections",
        {"reason": "门牌号录错", "address": "重庆市渝北区人和街道541号附1号"},
    )
    store = survey_store(deployment)
    try:
        events = [e for e in store.read() if e.envelope.stream_id == f"person-{person_id}"]
    finally:
        store.engine.dispose()
    assert [e.envelope.version for e in events] == [1, 2, 3]
    return person_id, events[1].position


def test_version_3_published_before_version_2_is_parked_and_applied_after_it(deployment: Deployment) -> None:
    deployment.journey.register(certified_adult(540, street="人和"))  # the stream has an entry
    wait_clean(deployment)
    parked_before = {service: consumer_health(deployment, service)["parked"] for service in SUBSCRIBERS}
    with cut_off_from_redis(deployment, "survey"):  # commands go to the outbox only
        person_id, second = three_versions(deployment)
        store = survey_store(deployment)
        # Version 2 looks published (under an entry id that is on the stream), so only 1 and 3 go out; the
        # stream counts the add that mark claims, or the relay would take it for a stream Redis lost (and
        # restore version 2 at once).
        store.mark_published([(second, first_entry_id(deployment.redis.url))])
        count_one_more_add(deployment.redis.url)
    # survey restarted with Redis: it publishes versions 1 and 3
    for service in SUBSCRIBERS:
        wait_until(
            f"{service} parks version 3",
            partial(parks, deployment, service),
            timeout=20.0,
        )
    store.republish([second])  # now version 2 is published, after version 3
    store.engine.dispose()

    results = wait_clean(deployment)

    assert_nothing_lost_nor_paid_twice(results)  # and I6: each inbox holds versions 1, 2, 3 in that order
    for service in SUBSCRIBERS:
        health = consumer_health(deployment, service)
        assert health["parked"] >= parked_before[service] + 1
        assert health["parked_now"] == 0
    settled_once_each(deployment, [person_id])
