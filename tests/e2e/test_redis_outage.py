"""Redis killed mid-journey: commands are still accepted, and nothing is lost once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import httpx
import pytest
import redis

from tests.e2e.conftest import Deployment, start_deployment, stop_deployment
from tests.e2e.people import certified_adult
from tests.e2e.test_journey import NEEDS, drive_one_person_through_the_journey, settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = start_deployment(tmp_path_factory.mktemp("outage"))
    yield running
    stop_deployment(running)


def unpublished(deployment: Deployment, service: str) -> int:
    return int(httpx.get(deployment.services.url(service) + "/health").json()["events"]["unpublished"])


def test_commands_accepted_while_redis_is_down_are_published_and_settled_when_it_returns(
    own_deployment: Deployment,
) -> None:
    journey = own_deployment.journey
    drive_one_person_through_the_journey(journey, certified_adult(1, street="金山"), NEEDS)
    settled(journey)

    own_deployment.redis.kill()
    during_outage = [certified_adult(n, street="康美", category="mental", digit=6) for n in (2, 3)]
    person_ids = []
    for person in during_outage:
        person_id = journey.register(person)
        journey.survey(person_id, ["support_service_mental"])
        person_ids.append(person_id)
    assert unpublished(own_deployment, "survey") == 4  # two registrations and two surveys wait in the outbox

    own_deployment.redis.start()
    journey.wait_until("the outage's surveys reach assessment", lambda: journey.on_worklist(set(person_ids)))
    for serial, (person_id, person) in enumerate(zip(person_ids, during_outage, strict=True), start=2):
        journey.assess_and_refer(person_id, ["support_service_mental"], home_visit=False)
        journey.wait_until(
            "referral reaches approval",
            partial(journey.referrals_reached_approval, person_id, ["support_service_mental"]),
        )
        application_id = journey.apply(person, person_id, ["support_service_mental"], serial=serial)
        journey.review_and_approve(application_id, person["street"], ["support_service_mental"])
        journey.wait_until(
            "approval reaches delivery", partial(journey.entitlements_reached_delivery, application_id)
        )
        journey.deliver(application_id, person_id, "support_service_mental", guardian=False)

    ledger = settled(journey)
    assert ledger["street:康美"] == (0, 2 * (3000 + 3000))
    assert ledger["street:金山"] == (0, 3000 + 3000)
    assert ledger["service_institution:lj-rehab-centre"] == (0, 3 * 20_000)
    assert ledger["assessment_institution:lj-assess-first-hospital"] == (0, 3 * 3000)
    assert ledger["service_institution:cq-aier-eye"] == (0, 100_000)
    paid = sum(credit for _debit, credit in ledger.values())
    assert paid == 3 * (3000 + 3000) + 3 * 3000 + 3 * 20_000 + 100_000
    assert ledger["fund:liangjiang-finance"] == (paid, 0)


def test_after_redis_loses_its_data_the_lost_events_are_published_again_and_new_ones_settled(
    own_deployment: Deployment,
) -> None:
    journey = own_deployment.journey
    drive_one_person_through_the_journey(journey, certified_adult(4, street="翠云"), NEEDS)
    settled(journey)

    client = redis.Redis.from_url(own_deployment.redis.url)
    client.flushall()  # streams and consumer groups are gone
    client.close()
    after = certified_adult(5, street="大竹林", category="mental", digit=6)
    person_id = journey.register(after)
    journey.survey(person_id, ["support_service_mental"])
    journey.wait_until("the new survey reaches assessment", lambda: journey.on_worklist({person_id}))

    ledger = settled(journey)
    assert ledger["street:大竹林"] == (0, 3000)  # the survey fee of the person surveyed after the loss
    assert ledger["street:翠云"] == (0, 6000)  # the republished events were not settled twice

    client = redis.Redis.from_url(own_deployment.redis.url)

    def history_is_back(service: str) -> bool:
        stored = httpx.get(own_deployment.services.url(service) + "/health").json()["events"]["stored"]
        return int(client.xlen(f"rehab.{service}.events")) >= stored

    for service in ("survey", "assessment", "approval", "delivery"):
        journey.wait_until(f"{service} republishes its lost events", partial(history_is_back, service))
    assert settled(journey)["street:翠云"] == (0, 6000)  # consumers deduplicated the republished events
    client.close()
