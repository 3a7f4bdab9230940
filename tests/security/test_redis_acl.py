"""Per-agency Redis users (deploy/redis): each service appends only to its own streams and reads
only what it consumes; the default user is off. Runs redis-server with the shipped config."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError
from redis.retry import Retry

from rehab.local_redis import answers, free_port
from tests.streams import entries, read_group

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "redis"
SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")
PRODUCERS = ("survey", "assessment", "approval", "delivery")
RETENTION = "retention"
USERS = (*SERVICES, "operator", RETENTION)

T = TypeVar("T")

Connect = Callable[[str], redis.Redis]
"""A client of Redis as the named ACL user."""


def events(service: str) -> str:
    return f"rehab.{service}.events"


def password(user: str) -> str:
    return f"{user}-demo-password"  # documented in deploy/redis/README.md as demo-only


@pytest.fixture
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A fresh redis-server started with deploy/redis/redis.conf (and its users.acl) on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/setup installs it)")
    workdir = tmp_path_factory.mktemp("redis-acl")
    for name in ("redis.conf", "users.acl"):
        shutil.copy(DEPLOY / name, workdir / name)
    chosen = free_port()
    args = [binary, "redis.conf", "--port", str(chosen), "--dir", str(workdir), "--logfile", "redis.log"]
    process = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    operator_url = f"redis://operator:{password('operator')}@127.0.0.1:{chosen}/0"
    deadline = time.monotonic() + 10
    while not answers(operator_url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (workdir / "redis.log").read_text() if (workdir / "redis.log").exists() else ""
            pytest.fail(f"redis-server with deploy/redis/redis.conf did not start:\n{log}")
        time.sleep(0.05)
    yield chosen
    process.terminate()
    process.wait(timeout=10)


def url_of(user: str, port: int) -> str:
    return f"redis://{user}:{password(user)}@127.0.0.1:{port}/0"


async def as_user(user: str, port: int, action: Callable[[AsyncRedis], Awaitable[T]]) -> T:
    """Run an async action with an asyncio client of Redis as the named ACL user."""
    client = AsyncRedis.from_url(url_of(user, port))
    try:
        return await action(client)
    finally:
        await client.aclose()


@pytest.fixture
def connect(port: int) -> Iterator[Connect]:
    clients: list[redis.Redis] = []

    def as_user(user: str) -> redis.Redis:
        client = redis.Redis.from_url(url_of(user, port))
        clients.append(client)
        return client

    yield as_user
    for client in clients:
        client.close()


def unauthenticated(port: int, username: str | None = None, password: str | None = None) -> redis.Redis:
    return redis.Redis(
        host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0), username=username, password=password
    )


def test_the_default_user_cannot_authenticate_or_run_commands(port: int) -> None:
    with pytest.raises(AuthenticationError, match=r"(?i)authenticat"):
        unauthenticated(port).ping()
    with pytest.raises(AuthenticationError, match="invalid username-password pair"):
        unauthenticated(port, username="default", password="any").ping()


def test_a_wrong_password_is_refused(port: int) -> None:
    with pytest.raises(AuthenticationError, match="invalid username-password pair"):
        unauthenticated(port, username="survey", password="guess").ping()


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_user_can_check_the_persistence_settings_and_who_it_is(
    connect: Connect, port: int, service: str
) -> None:
    from kernel.messaging.durability import durability_problems

    client = connect(service)
    assert client.ping()
    assert client.info("persistence")["aof_enabled"] == 1
    assert client.info("memory")["maxmemory_policy"] == "noeviction"
    assert client.execute_command("ACL", "WHOAMI") == service.encode()  # the default-user check
    assert asyncio.run(as_user(service, port, durability_problems)) == []  # read from INFO, not CONFIG


@pytest.mark.parametrize("user", USERS)
def test_no_user_may_read_or_change_the_configuration_of_redis(connect: Connect, user: str) -> None:
    client = connect(user)
    for command in (
        ("CONFIG", "GET", "*"),
        ("CONFIG", "GET", "requirepass"),
        ("CONFIG", "SET", "appendonly", "no"),
    ):
        with pytest.raises(NoPermissionError):
            client.execute_command(*command)


@pytest.mark.parametrize("user", [user for user in USERS if user != RETENTION])
def test_no_agency_user_nor_the_operator_may_trim_or_delete_entries_of_an_event_stream(
    connect: Connect, user: str
) -> None:
    for producer in PRODUCERS:
        connect(producer).xadd(events(producer), {"event_id": f"kept-{producer}"})
        entry_id = entries(connect("operator"), events(producer))[0][0]
        for command in (
            ("XTRIM", events(producer), "MAXLEN", "0"),
            ("XTRIM", events(producer), "MINID", "9999999999999-0"),
            ("XDEL", events(producer), entry_id),
            ("EVAL", "return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)", "1", events(producer)),
        ):
            with pytest.raises(NoPermissionError):
                connect(user).execute_command(*command)
        assert connect("operator").xlen(events(producer)) >= 1


def test_the_retention_user_trims_behind_the_slowest_group_and_can_do_nothing_else(
    connect: Connect, port: int
) -> None:
    from kernel.messaging.retention import trim_behind_slowest_group

    stream = events("survey")
    operator = connect("operator")
    operator.xadd(stream, {"n": "1"}, id="1000-0")
    operator.xadd(stream, {"n": "2"}, id="2000-0")
    for group in ("assessment", "settlement"):
        connect(group).xgroup_create(stream, group, id="0")
        connect(group).xreadgroup(group, "c1", {stream: ">"}, count=1)
        connect(group).xack(stream, group, "1000-0")

    trimmed = asyncio.run(
        as_user(RETENTION, port, lambda client: trim_behind_slowest_group(client, stream, 1.0, now=1e6))
    )

    assert trimmed.entries == 1
    assert [entry_id for entry_id, _ in entries(operator, stream)] == ["2000-0"]
    retention = connect(RETENTION)
    for command in (
        ("XADD", stream, "*", "event_id", "forged"),
        ("XRANGE", stream, "-", "+"),
        ("XREADGROUP", "GROUP", "assessment", "r", "STREAMS", stream, ">"),
        ("XACK", stream, "assessment", "2000-0"),
        ("XGROUP", "DESTROY", stream, "assessment"),
        ("XDEL", stream, "2000-0"),
        ("XTRIM", "rehab.survey.dead_letters", "MAXLEN", "0"),
    ):
        with pytest.raises(NoPermissionError):
            retention.execute_command(*command)


def test_the_survey_user_appends_to_its_own_stream_but_not_to_another_agencys(connect: Connect) -> None:
    survey = connect("survey")
    assert survey.xadd(events("survey"), {"event_id": "own"})
    assert survey.xadd("rehab.survey.dead_letters", {"reason": "own dead letter"})
    for other in ("assessment", "approval", "delivery"):
        with pytest.raises(NoPermissionError):
            survey.xadd(events(other), {"event_id": "forged"})
    with pytest.raises(NoPermissionError):
        survey.xadd("rehab.settlement.dead_letters", {"reason": "forged"})
    assert connect("operator").xlen(events("approval")) == 0


@pytest.mark.parametrize("producer", PRODUCERS)
def test_no_service_can_append_to_another_producers_stream(connect: Connect, producer: str) -> None:
    for service in SERVICES:
        if service != producer:
            with pytest.raises(NoPermissionError):
                connect(service).xadd(events(producer), {"event_id": "forged"})


def test_settlement_reads_and_acknowledges_all_four_streams_but_appends_to_none(connect: Connect) -> None:
    settlement = connect("settlement")
    for producer in PRODUCERS:
        stream = events(producer)
        connect(producer).xadd(stream, {"event_id": f"from-{producer}"})
        try:
            settlement.xgroup_create(stream, "settlement", id="0", mkstream=True)
        except ResponseError as error:
            assert "BUSYGROUP" in str(error)
        delivered = read_group(settlement, stream, "settlement", "settlement-1", count=10)
        assert delivered, f"settlement read nothing from {stream}"
        assert settlement.xack(stream, "settlement", *[entry_id for entry_id, _ in delivered]) == len(
            delivered
        )
        assert settlement.xpending(stream, "settlement")["pending"] == 0
        assert settlement.xinfo_groups(stream)
        assert settlement.xrange(stream)
        settlement.xautoclaim(stream, "settlement", "settlement-1", 0)
        with pytest.raises(NoPermissionError):
            settlement.xadd(stream, {"event_id": "forged"})
        with pytest.raises(NoPermissionError):
            settlement.xdel(stream, delivered[0][0])
    assert settlement.xadd("rehab.settlement.dead_letters", {"reason": "own dead letter"})


def test_a_service_cannot_read_a_stream_it_does_not_consume(connect: Connect) -> None:
    connect("survey").xadd(events("survey"), {"event_id": "private"})
    delivery = connect("delivery")
    with pytest.raises(NoPermissionError):
        delivery.xrange(events("survey"))
    with pytest.raises(NoPermissionError):
        delivery.xgroup_create(events("survey"), "delivery", id="0", mkstream=True)
    with pytest.raises(NoPermissionError):
        delivery.xreadgroup("delivery", "d", {events("survey"): ">"})
    with pytest.raises(NoPermissionError):
        delivery.xread({events("survey"): "0"})
    with pytest.raises(NoPermissionError):
        connect("survey").xrange(events("delivery"))


def test_a_consumer_cannot_append_to_the_stream_it_consumes(connect: Connect) -> None:
    with pytest.raises(NoPermissionError):
        connect("assessment").xadd(events("survey"), {"event_id": "forged"})


def test_services_cannot_reach_other_keys_or_administer_redis(connect: Connect) -> None:
    survey = connect("survey")
    for command in (
        ("SET", "x", "1"),
        ("KEYS", "*"),
        ("FLUSHALL",),
        ("CONFIG", "SET", "appendonly", "no"),
        ("ACL", "LIST"),
        ("DEL", events("survey")),
    ):
        with pytest.raises(NoPermissionError):
            survey.execute_command(*command)


def test_the_operator_reads_everything_and_manages_dead_letters_only(connect: Connect) -> None:
    operator = connect("operator")
    dead = "rehab.assessment.dead_letters"
    connect("assessment").xadd(dead, {"reason": "bad"})
    [(dead_id, _fields)] = entries(operator, dead)[-1:]
    assert operator.xadd(events("survey"), {"event_id": "redelivered"})  # rehab dlq retry
    assert operator.xdel(dead, dead_id) == 1
    assert operator.xinfo_stream(events("survey"))
    with pytest.raises(NoPermissionError):
        operator.xdel(events("survey"), entries(operator, events("survey"))[0][0])
    with pytest.raises(NoPermissionError):
        operator.execute_command("SET", "rehab.x", "1")


def test_the_outbox_relay_and_a_consumer_work_under_their_own_users(
    port: int, connect: Connect, tmp_path: Path
) -> None:
    from redis.asyncio import Redis as AsyncRedis

    from kernel.messaging.durability import durability_problems
    from kernel.messaging.relay import OutboxRelay
    from kernel.store.store import EventStore, create_store_engine
    from tests.kernel.events import need_surveyed
    from tests.kernel.test_consumer import consumer_of, effect_count, run_consumer_while, wait_for

    survey_store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    survey_store.create_schema()
    with survey_store.transaction() as unit:
        stored = unit.append("person-acl", 0, [need_surveyed()])[0]

    async def relay_once() -> tuple[int, int, list[str]]:
        client = AsyncRedis.from_url(url_of("survey", port))
        relay = OutboxRelay(survey_store, client, events("survey"), retry_seconds=0.05)
        try:
            published = await relay.publish_pending()
            return published, await relay.republish_lost_entries(), await durability_problems(client)
        finally:
            await client.aclose()

    assert asyncio.run(relay_once()) == (1, 0, [])

    assessment_store = EventStore(
        create_store_engine(f"sqlite:///{tmp_path / 'assessment.db'}"), producer="assessment"
    )
    assessment_store.create_schema()
    consumer = consumer_of(assessment_store)
    operator = connect("operator")

    def applied() -> None:
        wait_for(lambda: effect_count(assessment_store) == 1)
        wait_for(lambda: operator.xpending(events("survey"), "assessment")["pending"] == 0)

    run_consumer_while(consumer, url_of("assessment", port), applied)
    with assessment_store.transaction() as unit:
        assert [envelope.event_id for envelope in unit.received()] == [stored.event_id]
    assert operator.xlen("rehab.assessment.dead_letters") == 0


def test_a_producer_cannot_trim_another_agencys_stream_or_its_own_dead_letters(connect: Connect) -> None:
    survey = connect("survey")
    with pytest.raises(NoPermissionError):
        survey.xtrim(events("approval"), maxlen=0)
    with pytest.raises(NoPermissionError):
        survey.xtrim("rehab.survey.dead_letters", maxlen=0)


def test_another_agencys_user_can_drain_a_group_acls_cannot_stop_it_and_the_consumer_recovers(
    connect: Connect, port: int, tmp_path: Path
) -> None:
    """Issue 14, defect 5: ACLs name keys, not groups, so settlement's user may read and acknowledge in
    assessment's group; assessment's reconciliation (as its own user) finds the entry and applies it."""
    from kernel.store.store import EventStore, create_store_engine
    from tests.kernel.events import need_surveyed
    from tests.kernel.test_consumer import consumer_of, effect_count

    survey_store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    survey_store.create_schema()
    with survey_store.transaction() as unit:
        stored = unit.append("person-drained", 0, [need_surveyed()])[0]
    connect("assessment").xgroup_create(events("survey"), "assessment", id="0", mkstream=True)
    connect("survey").xadd(events("survey"), stored.to_wire())  # type: ignore[arg-type]
    intruder = connect("settlement")
    taken = read_group(intruder, events("survey"), "assessment", "settlement-in-disguise")
    assert intruder.xack(events("survey"), "assessment", *[entry_id for entry_id, _ in taken]) == 1

    assessment_store = EventStore(
        create_store_engine(f"sqlite:///{tmp_path / 'assessment.db'}"), producer="assessment"
    )
    assessment_store.create_schema()
    consumer = consumer_of(assessment_store)

    assert asyncio.run(as_user("assessment", port, consumer.reconcile_once)) == 1
    assert effect_count(assessment_store) == 1


def test_a_consumer_may_not_destroy_or_move_another_agencys_group(connect: Connect) -> None:
    connect("assessment").xgroup_create(events("survey"), "assessment", id="0", mkstream=True)
    for command in (
        ("XGROUP", "DESTROY", events("survey"), "assessment"),
        ("XGROUP", "SETID", events("survey"), "assessment", "$"),
        ("XGROUP", "DELCONSUMER", events("survey"), "assessment", "assessment-1"),
    ):
        with pytest.raises(NoPermissionError):
            connect("settlement").execute_command(*command)
