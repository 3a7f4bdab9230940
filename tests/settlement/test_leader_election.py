"""Two settlement instances on one PostgreSQL database: one leader writes the ledger, the other stands by,
serves reads and takes over within seconds when the leader's lock is gone; the ledger equals replay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from kernel import consuming
from kernel.messaging.consumer import EventConsumer
from kernel.messaging.leadership import Leadership, LeadershipLost
from kernel.runtime import ServiceRuntime, ServiceSettings
from kernel.store.tables import inbox_table
from rehab.local_redis import LocalRedis, free_port
from rehab.verify import check_no_duplicate_effect, check_replay_equivalent
from rehab.verify_snapshot import Snapshot, load_store
from services.settlement import app as settlement_app
from services.settlement.app import create_app
from tests.apps import state_of
from tests.settlement.settlement_builders import Journey
from tests.streams import add

EVENTS_PER_JOURNEY = 5


@pytest.fixture
def database(empty_postgres_url: str) -> str:
    """A database of its own on the test PostgreSQL server, dropped afterwards."""
    return empty_postgres_url


def settlement(database: str, redis_url: str, tmp_path: Path, name: str) -> TestClient:
    settings = ServiceSettings(
        service="settlement", database_url=database, redis_url=redis_url, var_dir=tmp_path / name
    )
    return TestClient(create_app(settings))


def runtime(client: TestClient) -> ServiceRuntime:
    found: ServiceRuntime = state_of(client).runtime
    return found


def leadership(client: TestClient) -> Leadership:
    writer = runtime(client).single_writer
    assert writer is not None, "settlement on PostgreSQL elects its ledger writer"
    return writer.leadership


def role(client: TestClient) -> str:
    answer = client.get("/health")
    assert answer.status_code == 200, answer.text  # a standby is ready: it serves reads
    return str(answer.json()["leadership"]["role"])


def applied(client: TestClient) -> int:
    consumer = runtime(client).consumer
    assert consumer is not None
    return consumer.stats.applied + consumer.stats.reclaimed


def publish(client: redis.Redis, journeys: int, approved: bool = True) -> None:
    """``journeys`` persons' events; unless ``approved``, their services are delivered without an approval."""
    for _ in range(journeys):
        journey = Journey()
        for envelope, stream in journey.events():
            if approved or envelope is not journey.approved:
                add(client, stream, envelope.to_wire())


def unsettled(client: TestClient) -> list[dict[str, object]]:
    answer = client.get("/ledger/unsettled", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return sorted(answer.json(), key=str)


def archived(database: str) -> int:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(inbox_table)) or 0
    finally:
        engine.dispose()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
    """Seconds until ``condition`` held; fails naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"waited {timeout:.0f}s for {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def assert_ledger_equals_replay(database: str) -> None:
    snapshot = Snapshot({"settlement": load_store("settlement", database)}, {}, {})
    for check in (check_replay_equivalent(snapshot), check_no_duplicate_effect(snapshot)):
        assert check.violations == [], check.violations[:5]
    assert check_replay_equivalent(snapshot).counts["live postings"] > 0


def test_one_of_two_instances_consumes_and_the_ledger_equals_replay(
    database: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with ExitStack() as running:
        first = running.enter_context(settlement(database, redis_url, tmp_path, "a"))
        second = running.enter_context(settlement(database, redis_url, tmp_path, "b"))
        wait_for(lambda: {role(first), role(second)} == {"leader", "standby"}, "one leader")

        publish(redis_client, 20)
        publish(redis_client, 5, approved=False)  # delivered, waiting for its approval: unsettled
        wait_for(lambda: archived(database) == 20 * EVENTS_PER_JOURNEY + 5 * 4, "every event archived")

        leader, standby = (first, second) if role(first) == "leader" else (second, first)
        assert applied(leader) == 20 * EVENTS_PER_JOURNEY + 5 * 4
        assert applied(standby) == 0
        assert standby.get("/ledger").json() == leader.get("/ledger").json()  # read from the database
        wait_for(
            lambda: unsettled(standby) == unsettled(leader),
            "the standby to read the same unsettled items",
            timeout=5,
        )
        assert len(unsettled(leader)) >= 5
        metrics = standby.get("/metrics").text
        assert 'rehab_leader{scope="settlement:ledger-writer",service="settlement"} 0.0' in metrics
    assert_ledger_equals_replay(database)


def test_a_standby_refuses_to_rebuild_the_ledger_the_leader_writes(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    with ExitStack() as running:
        first = running.enter_context(settlement(database, redis_url, tmp_path, "a"))
        second = running.enter_context(settlement(database, redis_url, tmp_path, "b"))
        wait_for(lambda: {role(first), role(second)} == {"leader", "standby"}, "one leader")
        leader, standby = (first, second) if role(first) == "leader" else (second, first)

        refused = standby.post("/ledger/rebuild")
        rebuilt = leader.post("/ledger/rebuild")

        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "settlement.rebuild.standby"
        assert rebuilt.status_code == 200, rebuilt.text


def test_the_standby_takes_over_within_seconds_when_the_leaders_lock_connection_is_cut(
    database: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with ExitStack() as running:
        first = running.enter_context(settlement(database, redis_url, tmp_path, "a"))
        second = running.enter_context(settlement(database, redis_url, tmp_path, "b"))
        wait_for(lambda: {role(first), role(second)} == {"leader", "standby"}, "one leader")
        leader, standby = (first, second) if role(first) == "leader" else (second, first)
        publish(redis_client, 10)
        wait_for(lambda: archived(database) == 10 * EVENTS_PER_JOURNEY, "the first events archived")

        cut_off(database, leadership(leader))  # as when its connection is lost: PostgreSQL frees the lock
        publish(redis_client, 20)
        took = wait_for(lambda: role(standby) == "leader", "the standby to take over", timeout=10)

        wait_for(lambda: archived(database) == 30 * EVENTS_PER_JOURNEY, "every event archived")
        assert took < 5.0
        assert role(leader) == "standby"  # it stopped consuming and tries the lock again
        assert leadership(standby).elections_won == 1
    assert_ledger_equals_replay(database)


def test_a_deposed_leaders_transaction_is_fenced_off_before_it_noticed(database: str) -> None:
    leadership = Leadership(database, "settlement:ledger-writer")
    engine = create_engine(database)
    try:
        assert leadership.try_to_lead()
        with Session(engine) as session, session.begin():
            leadership.fence(session)  # it leads: the transaction may write

        cut_off(database, leadership)  # no check ran since: it still believes it leads
        assert leadership.role == "leader"
        with pytest.raises(LeadershipLost), Session(engine) as session, session.begin():
            leadership.fence(session)
    finally:
        leadership.close()
        engine.dispose()


def cut_off(database: str, leadership: Leadership) -> None:
    """End the leader's lock session from the server's side, and wait until it is gone: terminating only
    signals the backend, whose locks are held until it has exited (a loaded machine takes a moment)."""
    engine = create_engine(database)
    pid = leadership.session_pid
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.scalar(gone, {"pid": pid}):
                    return
            time.sleep(0.02)
        raise AssertionError(f"backend {pid} still runs 10 s after it was terminated")
    finally:
        engine.dispose()


def test_an_instance_that_cannot_reach_redis_leaves_the_writing_to_one_that_can(
    database: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with ExitStack() as running:
        cut_off_from_redis = running.enter_context(
            settlement(database, "redis://127.0.0.1:1/0", tmp_path, "without-redis")
        )
        assert leadership(cut_off_from_redis).elections_won == 1  # it started first: it won the first try
        connected = running.enter_context(settlement(database, redis_url, tmp_path, "with-redis"))
        wait_for(lambda: leadership(connected).role == "leader", "the instance reaching Redis to lead")

        publish(redis_client, 5)
        wait_for(lambda: archived(database) == 5 * EVENTS_PER_JOURNEY, "every event archived")
        assert leadership(cut_off_from_redis).role == "standby"
    assert_ledger_equals_replay(database)


def test_a_leader_whose_redis_stops_answering_gives_the_ledger_to_a_standby_that_reaches_its_own(
    database: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consuming, "REDIS_LOST_SECONDS", 1.0)
    own_redis = LocalRedis(tmp_path / "redis", free_port()).start()
    try:
        with ExitStack() as running:
            leader = running.enter_context(settlement(database, own_redis.url, tmp_path, "a"))
            wait_for(lambda: role(leader) == "leader", "the first instance to lead")
            standby = running.enter_context(settlement(database, redis_url, tmp_path, "b"))
            assert leadership(standby).role == "standby"

            own_redis.stop()
            took = wait_for(lambda: leadership(standby).role == "leader", "the standby to take over", 15)
            assert leadership(leader).role == "standby"
            assert took < 10.0
    finally:
        own_redis.stop()


def test_a_new_leader_keeps_its_lock_while_it_handles_a_backlog_longer_than_the_idle_timeout(
    database: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server ends a leader's lock session idle for 2.5 s; the take-over's first reclaim takes 5 s (a
    # backlog of thousands of entries the previous leader left pending). Before, the lock was first
    # checked after it: the session had ended, the new leader stood by and was elected again and again.
    monkeypatch.setattr(settlement_app, "Leadership", partial(Leadership, idle_session_seconds=2.5))
    reclaim_once = EventConsumer.reclaim_once
    took_over: list[float] = []

    async def slow_first_reclaim(
        self: EventConsumer, redis: Any, min_idle_seconds: float | None = None
    ) -> int:
        if min_idle_seconds == 0:  # the take-over's
            await asyncio.sleep(5.0)
            took_over.append(time.monotonic())
        return await reclaim_once(self, redis, min_idle_seconds)

    monkeypatch.setattr(EventConsumer, "reclaim_once", slow_first_reclaim)
    with settlement(database, redis_url, tmp_path, "a") as leader:
        wait_for(lambda: bool(took_over), "the take-over's reclaim")
        wait_for(lambda: time.monotonic() - took_over[0] > 3.0, "a few checks of the lock after it")
        assert role(leader) == "leader"
        assert leadership(leader).elections_won == 1
