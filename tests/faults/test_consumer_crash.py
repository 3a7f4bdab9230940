"""Settlement killed while applying an event: before its commit, or after its commit but before XACK.
After the restart its pending entry is claimed (idle > REHAB_CLAIM_IDLE_SECONDS) and the fee is
posted exactly once."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    assert_nothing_lost_nor_paid_twice,
    consumer_health,
    postings_for,
    restart,
    wait_clean,
    wait_killed_by_fault,
)

pytestmark = pytest.mark.e2e


def kill_settlement_at(deployment: Deployment, fault: str, sequence: int, street: str) -> str:
    """Settlement dies at the fault point on the survey (its 2nd event: registration, then survey)."""
    journey = deployment.journey
    restart(deployment, "settlement", fault=f"{fault}:2")
    person_id = journey.register(certified_adult(sequence, street=street, category="mental", digit=6))
    journey.survey(person_id, ["support_service_mental"])
    wait_killed_by_fault(deployment, "settlement")
    restart(deployment, "settlement")
    return person_id


@pytest.mark.parametrize(
    ("fault", "sequence", "street"),
    [("consumer.before_commit", 21, "天宫殿"), ("consumer.after_commit", 22, "大竹林")],
    ids=["before_commit", "after_commit_before_xack"],
)
def test_a_consumer_killed_while_applying_an_event_applies_it_once_after_restart(
    deployment: Deployment, fault: str, sequence: int, street: str
) -> None:
    person_id = kill_settlement_at(deployment, fault, sequence, street)

    results = wait_clean(deployment)
    assert_nothing_lost_nor_paid_twice(results)
    assert consumer_health(deployment, "settlement")["reclaimed"] >= 1  # claimed from the dead consumer
    [posting] = postings_for(deployment, person_id)
    assert (posting["credit_account"], posting["amount_fen"]) == (f"street:{street}", 3000)
