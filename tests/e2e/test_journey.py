"""One person from survey to a balanced ledger, across five service processes and a real Redis; a
client's retry with its Idempotency-Key on the same deployment (after the ledger tests, which expect
the ledger of that one person)."""

from __future__ import annotations

import pytest
import redis

from rehab.journey import Journey
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.streams import add, entries

pytestmark = pytest.mark.e2e

NEEDS = ["low_vision_training", "support_service_midlife_blind"]


def drive_one_person_through_the_journey(journey: Journey, person: dict, needs: list[str]) -> tuple[str, str]:
    person_id = journey.register(person)
    journey.survey(person_id, needs)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    journey.assess_and_refer(person_id, needs, home_visit=False)
    journey.wait_until(
        "the referrals reach approval", lambda: journey.referrals_reached_approval(person_id, needs)
    )
    application_id = journey.apply(person, person_id, needs, serial=1)
    journey.review_and_approve(application_id, person["street"], needs)
    journey.wait_until(
        "the approval reaches delivery", lambda: journey.entitlements_reached_delivery(application_id)
    )
    for item in needs:
        journey.deliver(application_id, person_id, item, guardian=False)
    return person_id, application_id


def settled(journey: Journey) -> dict[str, tuple[int, int]]:
    journey.wait_until("every event is published", journey.producers_published_everything)
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    ledger = journey.get("settlement", "/ledger")
    assert ledger["balanced"] is True
    return {row["account"]: (row["debit_fen"], row["credit_fen"]) for row in ledger["accounts"]}


def test_a_certified_person_goes_from_survey_to_a_balanced_ledger_paid_to_the_fen(
    deployment: Deployment,
) -> None:
    journey = deployment.journey
    drive_one_person_through_the_journey(journey, certified_adult(1, street="礼嘉"), NEEDS)

    assert settled(journey) == {
        "street:礼嘉": (0, 3000 + 3000),  # survey fee + management fee, 30 yuan each
        "assessment_institution:lj-assess-first-hospital": (0, 3000),  # district level only
        "service_institution:cq-aier-eye": (0, 100_000),  # fixed amount 1,000 yuan < self-paid 1,200
        "service_institution:lj-rehab-centre": (0, 20_000),  # support service 200 yuan per year
        "fund:liangjiang-finance": (129_000, 0),
    }
    coverage = journey.get("settlement", "/reports/coverage", year=2025)["overall"]
    assert (coverage["surveyed"], coverage["with_needs"], coverage["served"]) == (1, 1, 1)


def test_an_event_delivered_twice_is_settled_once(deployment: Deployment) -> None:
    journey = deployment.journey
    before = settled(journey)
    client = redis.Redis.from_url(deployment.redis.url)
    stream = "rehab.delivery.events"
    _entry_id, fields = entries(client, stream)[0]
    add(client, stream, fields)  # the same event again, as a relay crash between XADD and mark would do
    journey.wait_until(
        "settlement has read the duplicate",
        lambda: (
            client.xinfo_groups(stream)[0]["entries-read"] == client.xlen(stream)
            and client.xpending(stream, "settlement")["pending"] == 0
        ),
    )
    assert settled(journey) == before
    client.close()


def test_rebuilding_the_ledger_by_replay_gives_the_live_ledger(deployment: Deployment) -> None:
    journey = deployment.journey
    live = journey.get("settlement", "/ledger")
    response = journey.client.post(deployment.services.url("settlement") + "/ledger/rebuild")
    assert response.status_code == 200
    assert response.json() == live


def stored_events(deployment: Deployment) -> int:
    return int(deployment.journey.get("survey", "/health")["events"]["stored"])


def test_registering_a_person_twice_with_one_key_registers_them_once(deployment: Deployment) -> None:
    """A client retrying a command against a real service process with its Idempotency-Key gets the
    original answer, and the service records the command once."""
    journey = deployment.journey
    body = {**certified_adult(3, street="鸳鸯"), "registered_on": journey.day(3, 1)}
    url = journey.url("survey") + "/persons"
    before = stored_events(deployment)
    first = journey.client.post(url, json=body, headers={"Idempotency-Key": "register-3"})
    after_first = stored_events(deployment)

    retry = journey.client.post(url, json=body, headers={"Idempotency-Key": "register-3"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert after_first > before
    assert stored_events(deployment) == after_first
