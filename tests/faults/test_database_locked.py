"""Survey's SQLite database locked by another process (a write transaction held for a while): a
command waits the bounded busy timeout and is refused with a clear 503 having recorded nothing;
queries keep answering; once the lock is released the client's retry with its key is recorded once."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from rehab_contracts import SURVEY_STREAM

from kernel.messaging.dead_letters import dead_letter_stream
from kernel.store.store import EventStore, create_store_engine
from rehab.local_redis import free_port
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    entries_of,
    paused,
    restart,
    settled_once_each,
    wait_clean,
    wait_until,
)
from tests.problem_json import problem_of

pytestmark = pytest.mark.e2e

BUSY_SECONDS = "1"


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another process's write transaction on the database, held until the block ends."""
    other = sqlite3.connect(database, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def unpublished_event_ids(database: Path) -> list[str]:
    store = EventStore(create_store_engine(f"sqlite:///{database}"), "survey")
    try:
        return [str(event.envelope.event_id) for event in store.unpublished(10)]
    finally:
        store.engine.dispose()


def least_deliveries(client: redis.Redis, stream: str, group: str) -> int:
    """The fewest deliveries of an entry the group has pending on the stream (0 when none is pending)."""
    pending = client.xpending_range(stream, group, min="-", max="+", count=1000)
    return min((int(entry["times_delivered"]) for entry in pending), default=0)


def register(deployment: Deployment, key: str) -> httpx.Response:
    journey = deployment.journey
    body = {**certified_adult(801, street="金山"), "registered_on": journey.day(3, 1)}
    return journey.client.post(
        journey.url("survey") + "/persons", json=body, headers={"Idempotency-Key": key}
    )


def test_a_command_on_a_locked_database_gets_a_503_and_the_retry_after_the_lock_is_recorded_once(
    deployment: Deployment,
) -> None:
    wait_clean(deployment)
    restart(deployment, "survey", env={"REHAB_SQLITE_BUSY_SECONDS": BUSY_SECONDS})
    journey = deployment.journey
    stored = journey.get("survey", "/health")["events"]["stored"]
    try:
        with write_locked(deployment.services.var_dir / "survey.db"):
            refused = register(deployment, "register-801")
            assert journey.get("survey", "/persons", limit=1)["total"] >= 0  # queries never wait for writers
        problem = problem_of(refused, 503)
        assert problem["code"] == "store.busy"
        assert journey.get("survey", "/health")["events"]["stored"] == stored  # nothing recorded

        retry = register(deployment, "register-801")

        assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
        assert journey.get("survey", "/health")["events"]["stored"] == stored + 1
        assert_nothing_lost_nor_paid_twice(wait_clean(deployment))
    finally:
        restart(deployment, "survey")  # back to the default busy timeout


def test_the_relay_survives_its_database_locked_past_the_busy_timeout(deployment: Deployment) -> None:
    """The relay XADDs an event and cannot mark it published: it retries, publishing it again."""
    services = deployment.services
    busy = {"REHAB_SQLITE_BUSY_SECONDS": BUSY_SECONDS}
    real_redis, services.redis_url = services.redis_url, f"redis://127.0.0.1:{free_port()}/0"
    try:
        restart(deployment, "survey", env=busy)  # cut off from Redis: the command waits in the outbox
    finally:
        services.redis_url = real_redis
    assert deployment.redis.process is not None
    try:
        deployment.journey.register(certified_adult(802, street="金山"))
        [waiting] = unpublished_event_ids(services.var_dir / "survey.db")
        with paused(deployment.redis.process.pid):
            restart(deployment, "survey", env=busy)  # started; its relay waits for Redis to answer
            with write_locked(services.var_dir / "survey.db"):
                os.kill(deployment.redis.process.pid, signal.SIGCONT)
                wait_until(
                    "the relay published the event",
                    lambda: entries_of(deployment.redis.url, SURVEY_STREAM, waiting) != [],
                    timeout=30.0,
                )
                time.sleep(2 * float(BUSY_SECONDS) + 0.5)  # it cannot mark it published in time

        assert_nothing_lost_nor_paid_twice(wait_clean(deployment, timeout=20.0))
    finally:
        restart(deployment, "survey")


def test_a_consumer_whose_database_stays_locked_past_its_delivery_budget_dead_letters_nothing(
    deployment: Deployment,
) -> None:
    """Issue 14, defect 8: settlement's disk full for ~60 s dead-lettered 41 good events after 5
    deliveries. Its database is locked here for many claim periods, with a budget of 3 deliveries."""
    services = deployment.services
    letters = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    before = letters.xlen(dead_letter_stream("settlement"))
    tight = {"REHAB_SQLITE_BUSY_SECONDS": "0.2", "REHAB_MAX_DELIVERIES": "3", "REHAB_BACKOFF_SECONDS": "0.2"}
    restart(deployment, "settlement", env=tight)
    try:
        with write_locked(services.var_dir / "settlement.db"):
            driver = LoadDriver(deployment, first=2800, persons=6, pause=0.05)
            driver.start()
            accepted = driver.finish()
            # Claimed after 1 s idle, then after the doubling back-off: each entry delivered past the
            # budget of 3 (what Redis counts, as the consumer reads it) while the lock lasts.
            wait_until(
                "settlement has had each of its entries delivered 5 times",
                lambda: least_deliveries(letters, SURVEY_STREAM, "settlement") >= 5,
                timeout=60.0,
            )

        results = wait_clean(deployment, timeout=45.0)

        assert letters.xlen(dead_letter_stream("settlement")) == before
        assert_nothing_lost_nor_paid_twice(results)
        settled_once_each(deployment, accepted)
    finally:
        letters.close()
        restart(deployment, "settlement")
