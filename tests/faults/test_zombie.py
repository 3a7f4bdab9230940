"""A zombie consumer: settlement is SIGSTOPped while entries are delivered to it, stays stopped past
the claim idle time, and a second settlement process claims its entries and applies them. When the
zombie wakes (SIGCONT) and handles the entries it had read, nothing is applied twice."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from rehab.local_redis import free_port
from rehab.processes import ServiceProcesses
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    FAST_RECLAIM,
    assert_nothing_lost_nor_paid_twice,
    paused,
    settled_once_each,
    wait_clean,
    wait_until,
)

pytestmark = pytest.mark.e2e


def pending_with(redis_url: str, consumer_prefix: str) -> int:
    """Entries of the survey stream pending with settlement consumers whose name starts so."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        consumers = client.xinfo_consumers(SURVEY_STREAM, "settlement")
    finally:
        client.close()
    return sum(c["pending"] for c in consumers if c["name"].startswith(consumer_prefix))


@pytest.fixture
def replica(deployment: Deployment) -> Iterator[ServiceProcesses]:
    """A second settlement process on the same database and group (started by the test)."""
    services = deployment.services
    second = ServiceProcesses(
        services.var_dir,
        services.redis_url,
        ports={"settlement": free_port()},
        services=("settlement",),
        env=FAST_RECLAIM,
    )
    yield second
    second.stop()


def replica_health(replica: ServiceProcesses) -> dict[str, int]:
    return dict(httpx.get(replica.url("settlement") + "/health", timeout=5.0).json()["consumer"])


def test_a_zombie_consumer_woken_after_its_entries_were_claimed_applies_nothing_twice(
    deployment: Deployment, replica: ServiceProcesses
) -> None:
    zombie = deployment.services.processes["settlement"]
    of_zombie = f"settlement-{socket.gethostname()}-{zombie.pid}-"
    wait_clean(deployment)
    with paused(zombie.pid):  # stopped while blocked reading: Redis still delivers entries to it
        person_ids = [surveyed(deployment, sequence) for sequence in (531, 532, 533)]
        wait_until(
            "the stopped consumer holds pending entries",
            lambda: pending_with(deployment.redis.url, of_zombie) > 0,
            timeout=10.0,
        )
        held = pending_with(deployment.redis.url, of_zombie)
        replica.start_one("settlement")
        replica.wait_healthy(timeout=30.0)

        results = wait_clean(deployment)  # the replica claimed the zombie's entries and applied them

        assert_nothing_lost_nor_paid_twice(results)
        assert pending_with(deployment.redis.url, of_zombie) == 0
        assert replica_health(replica)["reclaimed"] >= held
        settled_once_each(deployment, person_ids, settlement=replica.url("settlement"))
    # The zombie wakes up with the entries it had read: duplicates by now, acknowledged, not applied.
    deployment.services.wait_healthy(timeout=30.0)  # its event loop runs again
    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, person_ids)
    assert zombie.poll() is None  # alive and consuming again


def surveyed(deployment: Deployment, sequence: int) -> str:
    journey = deployment.journey
    person_id = journey.register(certified_adult(sequence, street="翠云", category="mental", digit=6))
    journey.survey(person_id, ["support_service_mental"])
    return person_id
