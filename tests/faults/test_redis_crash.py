"""SIGKILL of redis-server (AOF, fsync always) under a small load, then a restart: every command the
driver was told was accepted is recorded, published, consumed and paid exactly once."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Deployment
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    settled_once_each,
    wait_clean,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_redis_killed_and_restarted_under_load_loses_nothing_and_pays_nothing_twice(
    deployment: Deployment,
) -> None:
    driver = LoadDriver(deployment, first=300)
    driver.start()
    wait_until("a few surveys were accepted", lambda: len(driver.accepted) >= 4, timeout=20.0)
    deployment.redis.kill()
    at_kill = len(driver.accepted)
    time.sleep(1.5)
    accepted_while_down = len(driver.accepted) - at_kill
    deployment.redis.start()
    accepted = driver.finish()  # the API accepts commands whether Redis is up or not
    assert accepted_while_down > 0  # commands kept being accepted into the outboxes meanwhile

    results = wait_clean(deployment, timeout=45.0)
    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, accepted)
