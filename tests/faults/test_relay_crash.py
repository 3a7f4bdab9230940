"""SIGKILL of the relay between XADD and marking the event published: the event is published
again after the restart, every consumer applies it once, and a client retry gets the original answer."""

from __future__ import annotations

import httpx
import pytest
from rehab_contracts import SURVEY_STREAM

from kernel.store.store import create_store_engine
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    YEAR,
    assert_nothing_lost_nor_paid_twice,
    entries_of,
    postings_for,
    restart,
    wait_clean,
    wait_killed_by_fault,
    wait_until,
)

pytestmark = pytest.mark.e2e


def unpublished(deployment: Deployment, service: str) -> int:
    return int(deployment.journey.get(service, "/health")["events"]["unpublished"])


def survey_body() -> dict[str, object]:
    return {
        "survey_year": YEAR,
        "surveyed_on": f"{YEAR}-03-15",
        "has_needs": True,
        "needed_items": ["support_service_mental"],
        "home_visit_required": False,
        "surveyor": "社区康复协调员 张丽",
    }


def test_an_event_whose_relay_died_after_xadd_is_published_again_and_applied_once(
    deployment: Deployment,
) -> None:
    journey = deployment.journey
    # The relay's first pass (the registration) goes through; it dies after the XADD of its second.
    restart(deployment, "survey", fault="relay.after_xadd:2")
    person_id = journey.register(certified_adult(11, street="人和", category="mental", digit=6))
    wait_until("the registration is published", lambda: unpublished(deployment, "survey") == 0)

    url = f"{journey.url('survey')}/persons/{person_id}/surveys"
    headers = {"Idempotency-Key": f"survey-{person_id}"}
    try:
        first = journey.client.post(url, json=survey_body(), headers=headers)
        answered = first.status_code
    except httpx.TransportError:
        answered = None  # the process died before its answer left: the client will retry
    wait_killed_by_fault(deployment, "survey")
    assert answered in (201, None)

    engine = create_store_engine(f"sqlite:///{deployment.services.var_dir / 'survey.db'}")
    with engine.connect() as connection:
        survey_id = connection.exec_driver_sql(
            "SELECT e.event_id FROM events e JOIN outbox o ON o.position = e.position "
            "WHERE o.published_at IS NULL"
        ).scalar_one()  # recorded, on the stream, but not marked published
    engine.dispose()
    assert len(entries_of(deployment.redis.url, SURVEY_STREAM, survey_id)) == 1

    restart(deployment, "survey")
    retry = journey.client.post(url, json=survey_body(), headers=headers)
    # The answer was committed with the events, so the retry gets it whenever the process died.
    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (201, "true")
    assert retry.json()["survey_id"] == survey_id
    assert retry.headers["location"] == f"/persons/{person_id}/surveys/{survey_id}"

    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    assert len(entries_of(deployment.redis.url, SURVEY_STREAM, survey_id)) == 2  # published twice
    assert len(postings_for(deployment, person_id)) == 1  # paid once
