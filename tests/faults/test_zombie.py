"""A zombie consumer: settlement is SIGSTOPped while entries are delivered to it, and stays stopped past
the claim idle time. On SQLite it still holds the writer's lock (ADR 0020: one settlement instance), so a
second settlement process on the same database refuses to start instead of claiming its entries; woken
(SIGCONT), the zombie applies the entries it had read, each once."""

from __future__ import annotations

import socket
from collections.abc import Iterator

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


def test_beside_a_zombie_a_second_settlement_refuses_to_start_and_the_woken_zombie_applies_each_entry_once(
    deployment: Deployment, replica: ServiceProcesses
) -> None:
    """Before the writer's lock the second process claimed the zombie's entries and applied them; the scale
    audit then ran two instances on one SQLite file, each consuming half of the events."""
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
        replica.start_one("settlement")
        with pytest.raises(RuntimeError, match="settlement exited with code"):
            replica.wait_healthy(timeout=30.0)
        assert pending_with(deployment.redis.url, of_zombie) > 0  # nobody took them
    log = (deployment.services.var_dir / "logs" / "settlement.log").read_text(encoding="utf-8")
    assert "SQLite 上只能运行一个实例" in log
    # The zombie wakes up with the entries it had read and applies each once.
    deployment.services.wait_healthy(timeout=30.0)  # its event loop runs again
    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, person_ids)
    assert pending_with(deployment.redis.url, of_zombie) == 0
    assert zombie.poll() is None  # alive and consuming again


def surveyed(deployment: Deployment, sequence: int) -> str:
    journey = deployment.journey
    person_id = journey.register(certified_adult(sequence, street="翠云", category="mental", digit=6))
    journey.survey(person_id, ["support_service_mental"])
    return person_id
