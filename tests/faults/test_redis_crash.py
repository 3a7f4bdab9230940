"""SIGKILL of redis-server (AOF, fsync always) under a small load, then a restart: every command the
driver was told was accepted is recorded, published, consumed and paid exactly once."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import assert_nothing_lost_nor_paid_twice, postings_for, wait_clean, wait_until

pytestmark = pytest.mark.e2e

PERSONS = 16
STREETS = ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")


class LoadDriver(threading.Thread):
    """Registers and surveys persons one after another, recording each person whose survey was accepted."""

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(daemon=True)
        self.journey = deployment.journey
        self.accepted: list[str] = []
        self.refused: list[str] = []

    def run(self) -> None:
        for n in range(PERSONS):
            person = certified_adult(300 + n, street=STREETS[n % len(STREETS)], category="mental", digit=6)
            try:
                person_id = self.journey.register(person)
                self.journey.survey(person_id, ["support_service_mental"])
                self.accepted.append(person_id)
            except (httpx.HTTPError, RuntimeError) as error:
                self.refused.append(f"{n}: {error}")
            time.sleep(0.1)


def test_redis_killed_and_restarted_under_load_loses_nothing_and_pays_nothing_twice(
    deployment: Deployment,
) -> None:
    driver = LoadDriver(deployment)
    driver.start()
    wait_until("a few surveys were accepted", lambda: len(driver.accepted) >= 4, timeout=20.0)
    deployment.redis.kill()
    at_kill = len(driver.accepted)
    time.sleep(1.5)
    accepted_while_down = len(driver.accepted) - at_kill
    deployment.redis.start()
    driver.join(timeout=60.0)
    assert not driver.is_alive()
    assert driver.refused == []  # the API accepts commands whether Redis is up or not
    assert len(driver.accepted) == PERSONS
    assert accepted_while_down > 0  # commands kept being accepted into the outboxes meanwhile

    results = wait_clean(deployment, timeout=45.0)
    assert_nothing_lost_nor_paid_twice(results)
    for person_id in driver.accepted:
        assert len(postings_for(deployment, person_id)) == 1
