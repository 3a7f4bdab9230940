"""A producer's stream trimmed by hand under load (issue 14, defect 9): `XTRIM … MAXLEN 0` removes
entries no group had been delivered. Redis's `entries-added` does not fall, so the relay now asks the
groups: every published entry after the slowest group's delivery floor that left the stream is
published again, the consumers deduplicate, and nothing is lost nor paid twice."""

from __future__ import annotations

import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from tests.e2e.conftest import Deployment
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    paused,
    settled_once_each,
    wait_clean,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_a_stream_trimmed_to_nothing_before_its_consumers_read_it_loses_nothing(
    deployment: Deployment,
) -> None:
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    settlement = deployment.services.processes["settlement"].pid
    driver = LoadDriver(deployment, first=2600, persons=10)
    with paused(settlement):  # settlement reads nothing meanwhile: its entries wait on the stream
        driver.start()
        wait_until("a few surveys were accepted", lambda: len(driver.accepted) >= 4, timeout=20.0)
        trimmed = client.xtrim(SURVEY_STREAM, maxlen=0)
    accepted = driver.finish()

    results = wait_clean(deployment, timeout=45.0)

    assert trimmed > 0
    assert_nothing_lost_nor_paid_twice(results)
    client.close()
    settled_once_each(deployment, accepted)
