"""PostgreSQL stopped for a few seconds under load, then started again (issue 16): the five services each on a
database of their own on one server. Meanwhile every command is refused with a clear 503 (problem+json,
no trace), which the client sends again with its Idempotency-Key, and `/health` says not ready with the
reason. Once the server is back the pooled connections are replaced, the relays publish, the consumers and
settlement's ledger writer resume, and `rehab verify` is clean: nothing accepted is lost nor paid twice.

The scenario runs a PostgreSQL server of its own: the session's (``POSTGRES_URL``, a container) serves other
tests or is not ours to stop."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from rehab.journey import Journey
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses
from tests.e2e.conftest import Deployment, stop_deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    FAST_RECLAIM,
    STREETS,
    YEAR,
    assert_nothing_lost_nor_paid_twice,
    consumer_health,
    settled_once_each,
    wait_clean,
    wait_until,
)
from tests.local_postgres import LocalPostgres, postgres_binaries
from tests.problem_json import problem_of

pytestmark = pytest.mark.e2e

STOPPED_SECONDS = 5.0
"""How long the server stays stopped: several of the consumers' back-offs and the leader's lock checks."""
UNAVAILABLE = {"store.unavailable", "store.not_recorded"}
"""The refusals of a command whose database cannot be reached (not_recorded: its commit failed)."""


class RestartablePostgres(LocalPostgres):
    """The test server, stopped and started again on its port with its data (``pg_ctl stop -m fast``: the
    server ends every session, as a restart or a failover does)."""

    def stop_server(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start_server(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.dir / "log"), "start")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", *args)


@pytest.fixture(scope="module")
def postgres() -> Iterator[RestartablePostgres]:
    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup installs it)")
    server = RestartablePostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def databases(postgres: RestartablePostgres) -> dict[str, str]:
    """Each service's database on the server."""
    server = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for service in SERVICES:
            connection.execute(text(f'CREATE DATABASE "{service}"'))
    server.dispose()
    return {
        service: make_url(postgres.url).set(database=service).render_as_string(False) for service in SERVICES
    }


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, databases: dict[str, str]) -> Iterator[Deployment]:
    """Redis and the five services as processes, every store on the PostgreSQL server."""
    var_dir: Path = tmp_path_factory.mktemp("postgres-outage")
    redis = LocalRedis(var_dir / "redis", free_port()).start()
    ports = {service: free_port() for service in SERVICES}
    services = ServiceProcesses(var_dir, redis.url, ports=ports, services=(), env=FAST_RECLAIM)
    running = Deployment(redis, services, Journey(services.url, year=YEAR, timeout=30.0))
    try:
        services.start()  # the signing keys; no service yet
        for service in SERVICES:
            services.start_one(service, {"REHAB_DATABASE_URL": databases[service]})
        services.wait_healthy(timeout=60.0)
        yield running
    finally:
        stop_deployment(running)


class KeyedLoad(threading.Thread):
    """Registers and surveys persons one after another, each command with an Idempotency-Key: a command
    refused as unavailable is sent again with its key until accepted (a duplicate cannot come of it)."""

    def __init__(self, deployment: Deployment, first: int, persons: int, pause: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.journey = deployment.journey
        self.first, self.persons, self.pause = first, persons, pause
        self.accepted: list[str] = []
        self.refusals: list[httpx.Response] = []
        self.failures: list[str] = []

    def run(self) -> None:
        journey = self.journey
        try:
            for n in range(self.persons):
                person = certified_adult(
                    self.first + n, street=STREETS[n % len(STREETS)], category="mental", digit=6
                )
                registered = self.command("/persons", {**person, "registered_on": journey.day(3, 1)})
                survey = {
                    "survey_year": YEAR,
                    "surveyed_on": journey.day(3, 15),
                    "has_needs": True,
                    "needed_items": ["support_service_mental"],
                    "home_visit_required": False,
                    "surveyor": "社区康复协调员 张丽",
                }
                self.command(f"/persons/{registered['person_id']}/surveys", survey)
                self.accepted.append(str(registered["person_id"]))
                time.sleep(self.pause)
        except Exception as error:  # reported by finish()
            self.failures.append(repr(error))

    def command(self, path: str, body: dict[str, Any], attempts: int = 120) -> dict[str, Any]:
        key = f"outage-{uuid4()}"
        for _ in range(attempts):
            answer = httpx.post(
                self.journey.url("survey") + path, json=body, headers={"Idempotency-Key": key}, timeout=30.0
            )
            if answer.status_code == 201:
                return dict(answer.json())
            if answer.status_code != 503:
                raise AssertionError(f"POST {path} answered {answer.status_code}: {answer.text}")
            self.refusals.append(answer)
            time.sleep(0.5)
        raise AssertionError(f"POST {path} refused {attempts} times")

    def finish(self, timeout: float = 60.0) -> list[str]:
        self.join(timeout=timeout)
        assert not self.is_alive(), "the load did not finish"
        assert self.failures == []
        assert len(self.accepted) == self.persons
        return self.accepted


def health(deployment: Deployment, service: str) -> httpx.Response:
    return httpx.get(deployment.services.url(service) + "/health", timeout=10.0)


def problem_codes(answer: httpx.Response) -> set[str]:
    return {problem["code"] for problem in answer.json().get("problems", [])}


def test_postgresql_stopped_under_load_refuses_commands_with_503_and_everything_resumes_once_it_is_back(
    postgres: RestartablePostgres, databases: dict[str, str], deployment: Deployment
) -> None:
    load = KeyedLoad(deployment, first=3100, persons=12)
    assessment = deployment.services.processes["assessment"].pid
    os.kill(assessment, signal.SIGSTOP)  # survey's entries wait on the stream for assessment meanwhile
    try:
        load.start()
        wait_until("a few surveys were accepted", lambda: len(load.accepted) >= 3 or bool(load.failures))
        assert load.failures == []
        postgres.stop_server()
    finally:
        os.kill(assessment, signal.SIGCONT)  # it reads them now and cannot apply them
    try:
        stopped = time.monotonic()
        wait_until(
            "every service says its database is unreachable",
            lambda: all(
                health(deployment, service).status_code == 503
                and "store.unreachable" in problem_codes(health(deployment, service))
                for service in SERVICES
            ),
            timeout=STOPPED_SECONDS,
        )
        refused = httpx.post(
            deployment.services.url("survey") + "/persons",
            json={**certified_adult(3199, street="金山"), "registered_on": deployment.journey.day(3, 1)},
            timeout=30.0,
        )
        time.sleep(max(0.0, STOPPED_SECONDS - (time.monotonic() - stopped)))
    finally:
        postgres.start_server()
    accepted = load.finish()

    assert problem_of(refused, 503)["code"] in UNAVAILABLE
    assert "Traceback" not in refused.text
    assert load.refusals, "no command was sent while the database was down"
    for answer in load.refusals:
        assert problem_of(answer, 503)["code"] in UNAVAILABLE, answer.text
    results = wait_clean(deployment, timeout=45.0, databases=databases)
    assert_nothing_lost_nor_paid_twice(results)
    settled_once_each(deployment, accepted)
    consumed = consumer_health(deployment, "assessment")
    assert consumed["infrastructure_failures"] > 0 and consumed["dead_lettered"] == 0, consumed
    for service in SERVICES:
        assert health(deployment, service).status_code == 200, health(deployment, service).text
