"""Redis stopped for a while under load (SIGSTOP: connections hang rather than fail, past the
services' 5 s socket timeout), then resumed: the load driver's commands are all accepted meanwhile,
and everything drains afterwards, paid once, although Redis then runs commands whose clients had
already given up (a relay's XADD it believed failed becomes a duplicate entry)."""

from __future__ import annotations

import time

import pytest

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

STOPPED_SECONDS = 6.0
"""Longer than the services' Redis socket timeout (5 s), so their pending calls time out."""


def test_redis_stopped_for_a_while_under_load_drains_everything_once_it_resumes(
    deployment: Deployment,
) -> None:
    driver = LoadDriver(deployment, first=700, persons=8, pause=0.3)
    driver.start()
    try:
        wait_until("a few surveys were accepted", lambda: len(driver.accepted) >= 3, timeout=20.0)
    except AssertionError as slow:
        raise AssertionError(f"{slow}; refused so far: {driver.refused[:3]}") from slow
    assert deployment.redis.process is not None
    with paused(deployment.redis.process.pid):
        at_stop = len(driver.accepted)
        time.sleep(STOPPED_SECONDS)
        accepted_while_stopped = len(driver.accepted) - at_stop
    accepted = driver.finish()
    assert accepted_while_stopped > 0  # the APIs never wait for Redis

    results = wait_clean(deployment, timeout=45.0)

    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, accepted)
