"""The consumer group, then the whole stream, deleted while the services run under load: the group is
re-created, the relay publishes the lost events again from survey's store, consumers deduplicate."""

from __future__ import annotations

import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from tests.e2e.conftest import Deployment
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    settled_once_each,
    wait_clean,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_a_group_and_then_the_stream_deleted_under_load_lose_nothing_and_pay_nothing_twice(
    deployment: Deployment,
) -> None:
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    driver = LoadDriver(deployment, first=600, persons=12)
    driver.start()
    wait_until("a few surveys were accepted", lambda: len(driver.accepted) >= 3, timeout=20.0)
    assert client.xgroup_destroy(SURVEY_STREAM, "settlement") == 1
    wait_until("more surveys were accepted", lambda: len(driver.accepted) >= 7, timeout=20.0)
    assert client.delete(SURVEY_STREAM) == 1  # every entry and both groups
    accepted = driver.finish()

    results = wait_clean(deployment, timeout=45.0)

    assert_nothing_lost_nor_paid_twice(results)
    groups = {group["name"] for group in client.xinfo_groups(SURVEY_STREAM)}
    assert groups == {"assessment", "settlement"}
    client.close()
    settled_once_each(deployment, accepted)
