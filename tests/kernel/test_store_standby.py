"""A service whose URL points at a hot standby (a failover promoted another server and the old primary came
back as a standby, or the URL was not moved yet) reads but cannot write: every write fails with SQLSTATE
25006. The store counts as unavailable (503 ``store.unavailable``, the consumer waits and dead-letters
nothing), ``/health`` says ``store.read_only``, an instance starting there finds its schema current and
starts, and once the standby is promoted the waiting events are applied once.

A real streaming standby of a PostgreSQL server of this test's own (``pg_basebackup -R``): the session's
server (``POSTGRES_URL``, a container) is not ours to replicate."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kernel.messaging.consumer import dead_letter_stream
from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.store.store import EventStore, create_store_engine
from kernel.store.unavailable import store_refusal
from rehab.local_redis import free_port
from tests.kernel.consuming import (
    GROUP,
    applied,
    applied_metadata,
    consumer_for,
    delivered_to_a_consumer_that_dies,
    pending_count,
    surveys_of_one_person,
)
from tests.kernel.consuming import with_redis as with_a_redis
from tests.local_postgres import LocalPostgres, postgres_binaries


class Standby:
    """A hot standby streaming from ``primary``, on a port of its own."""

    def __init__(self, primary: LocalPostgres) -> None:
        self.primary = primary
        self.dir = Path(tempfile.mkdtemp(prefix="rehab-standby-"))
        if primary.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.data = str(self.dir / "data")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> Standby:
        source = ["-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres"]
        self._run("pg_basebackup", *source, "-D", self.data, "-R")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        return self

    def promote(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-w", "promote")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        self.primary._run(str(self.primary.bin / program), *args)


@pytest.fixture
def primary() -> Iterator[LocalPostgres]:
    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stores(primary: LocalPostgres) -> Iterator[tuple[EventStore, EventStore, Standby]]:
    """Survey's store migrated on the primary (with the consumer tests' table), and the same on a standby."""
    on_primary = EventStore(create_store_engine(primary.url), "survey")
    on_primary.create_schema(applied_metadata, service="survey")
    standby = Standby(primary).start()
    on_standby = EventStore(create_store_engine(standby.url), "survey")
    try:
        yield on_primary, on_standby, standby
    finally:
        on_standby.engine.dispose()
        on_primary.engine.dispose()
        standby.stop()


def replicated(store: EventStore, events: int) -> None:
    """Wait until the standby has replayed the primary's ``events`` events."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with store.engine.connect() as connection:
            if connection.execute(text("SELECT count(*) FROM events")).scalar() == events:
                return
        time.sleep(0.05)
    raise AssertionError("the standby did not replay the primary's events")


def test_a_store_on_a_hot_standby_is_read_only_current_and_unavailable_for_writes(
    stores: tuple[EventStore, EventStore, Standby],
) -> None:
    _primary, on_standby, _standby = stores

    assert on_standby.read_only()
    assert on_standby.schema_pending("survey") == []
    on_standby.create_schema(applied_metadata, service="survey")  # an instance starting there: nothing to do
    for write in ("DELETE FROM outbox", "SELECT * FROM outbox FOR UPDATE"):
        with pytest.raises(DBAPIError) as refused, on_standby.engine.begin() as connection:
            connection.execute(text(write))
        assert getattr(refused.value.orig, "sqlstate", None) == "25006"
        assert is_infrastructure_failure(refused.value)
        refusal = store_refusal(refused.value)
        assert refusal is not None and refusal.code == "store.unavailable"


def test_events_consumed_on_a_standby_wait_and_are_applied_once_it_is_promoted(
    stores: tuple[EventStore, EventStore, Standby], redis_url: str, redis_client: redis.Redis
) -> None:
    on_primary, on_standby, standby = stores
    [envelope] = surveys_of_one_person(on_primary, 1)
    replicated(on_standby, 1)
    consumer = consumer_for(on_standby, max_deliveries=3, backoff_seconds=0)
    delivered_to_a_consumer_that_dies(redis_client, [envelope])  # delivery 1

    async def reclaim(client: Redis, times: int) -> None:
        for _ in range(times):
            await consumer.reclaim_once(client, min_idle_seconds=0)

    with_a_redis(redis_url, lambda client: reclaim(client, 5))  # deliveries 2-6, past the budget of 3
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0
    assert consumer.stats.infrastructure_failures == 5

    standby.promote()  # the failover completes
    with_a_redis(redis_url, lambda client: reclaim(client, 1))

    assert not on_standby.read_only()
    assert applied(on_standby) == [("person-1", 1)]
    assert redis_client.xlen(dead_letter_stream(GROUP)) == 0
    assert pending_count(redis_client) == 0
