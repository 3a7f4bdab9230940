"""Another agency's client drains a consumer group under load (issue 14, defect 5): it reads entries in
assessment's group and acknowledges them, so they never reach assessment. Redis ACLs cannot stop it
(they name keys, not groups); assessment's reconciliation finds what its group passed without it and
applies it, so `rehab verify` ends clean and nothing is applied twice."""

from __future__ import annotations

import threading

import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from tests.e2e.conftest import Deployment
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    settled_once_each,
    wait_clean,
)

pytestmark = pytest.mark.e2e


def drain(redis_url: str, group: str, stop: threading.Event) -> list[str]:
    """Read and acknowledge in ``group`` as an intruder until told to stop; the entry ids taken."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    taken: list[str] = []
    try:
        while not stop.is_set():
            reply = client.xreadgroup(group, "intruder", {SURVEY_STREAM: ">"}, count=5, block=100)
            assert isinstance(reply, list), "XREADGROUP answers a list of (stream, entries) over RESP2"
            for _stream, entries in reply:
                ids = [entry_id for entry_id, _fields in entries]
                client.xack(SURVEY_STREAM, group, *ids)
                taken += ids
    finally:
        client.close()
    return taken


def test_entries_another_client_takes_from_a_group_under_load_are_still_applied_once(
    deployment: Deployment,
) -> None:
    stop = threading.Event()
    taken: list[str] = []
    intruder = threading.Thread(target=lambda: taken.extend(drain(deployment.redis.url, "assessment", stop)))
    intruder.start()
    driver = LoadDriver(deployment, first=2700, persons=12)
    driver.start()
    accepted = driver.finish()
    stop.set()
    intruder.join(timeout=10)

    results = wait_clean(deployment, timeout=60.0)

    assert taken, "the intruder took nothing: the scenario tested nothing"
    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, accepted)
