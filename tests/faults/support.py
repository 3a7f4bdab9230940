"""Helpers of the fault suite: restarting one service with a fault point armed, and waiting until
the deployment is quiescent and `rehab verify` finds it clean (bounded waits only)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
from rehab_contracts import STREAM_OF_PRODUCER

from kernel.faults import KILLED
from rehab.journey import Journey
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses
from rehab.verify import PRODUCERS, SUBSCRIBES_TO, CheckResult, render, store_urls, verify_deployment
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.streams import entries

FAST_RECLAIM = {"REHAB_CLAIM_IDLE_SECONDS": "1"}
"""Entries of a killed consumer are claimed after 1 s instead of 30 s."""

YEAR = 2025
STREETS = ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")


class LoadDriver(threading.Thread):
    """Registers and surveys persons one after another, recording each person whose survey was accepted.

    ``first`` numbers the persons (their ID numbers), so each scenario uses its own range.
    """

    def __init__(self, deployment: Deployment, first: int, persons: int = 16, pause: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.journey = deployment.journey
        self.first, self.persons, self.pause = first, persons, pause
        self.accepted: list[str] = []
        self.refused: list[str] = []

    def run(self) -> None:
        for n in range(self.persons):
            street = STREETS[n % len(STREETS)]
            person = certified_adult(self.first + n, street=street, category="mental", digit=6)
            try:
                person_id = self.journey.register(person)
                self.journey.survey(person_id, ["support_service_mental"])
                self.accepted.append(person_id)
            except (httpx.HTTPError, RuntimeError) as error:
                self.refused.append(f"{n}: {error}")
            time.sleep(self.pause)

    def finish(self, timeout: float = 60.0) -> list[str]:
        """Wait for the driver; every command it sent must have been accepted. The persons surveyed."""
        self.join(timeout=timeout)
        assert not self.is_alive(), "the load driver did not finish"
        assert self.refused == []
        assert len(self.accepted) == self.persons
        return self.accepted


def settled_once_each(deployment: Deployment, person_ids: list[str], settlement: str | None = None) -> None:
    """Each person's survey fee is posted exactly once (asking ``settlement``'s URL when given)."""
    url = (settlement or deployment.services.url("settlement")) + "/ledger/postings"
    keys = [posting["key"] for posting in every_posting(url, rule="survey_fee")]
    for person_id in person_ids:
        assert sum(person_id in key for key in keys) == 1, person_id


def every_posting(url: str, **filters: str) -> list[dict[str, Any]]:
    """Every posting GET ``url`` (settlement's /ledger/postings) answers, page by page: a long soak
    posts far more than one page of 500."""
    postings: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {**filters, "limit": PAGE, "offset": len(postings)}
        answer = httpx.get(url, params=params, timeout=10.0)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        postings += page["items"]
        if not page["items"] or len(postings) >= page["total"]:
            return postings


PAGE = 500
"""The largest page settlement answers."""


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """SIGSTOP a process (it keeps its sockets and locks but does nothing), SIGCONT it afterwards."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def cut_off_from_redis(deployment: Deployment, service: str) -> Iterator[None]:
    """Restart a service pointed at a Redis that does not answer: it accepts commands into its
    outbox and publishes nothing. Restarted normally afterwards."""
    services = deployment.services
    real = services.redis_url
    services.redis_url = f"redis://127.0.0.1:{free_port()}/0"
    try:
        restart(deployment, service)
    finally:
        services.redis_url = real
    yield
    restart(deployment, service)


def start_deployment_with(var_dir: Path, env: dict[str, str] | None = None) -> Deployment:
    """As tests.e2e.conftest.start_deployment, with extra environment for every service process."""
    server = LocalRedis(var_dir / "redis", free_port()).start()
    services = ServiceProcesses(
        var_dir, server.url, ports={service: free_port() for service in SERVICES}, env=env or FAST_RECLAIM
    )
    try:
        services.start()
    except BaseException:
        services.stop()
        server.stop()
        raise
    return Deployment(server, services, Journey(services.url, year=YEAR, timeout=30.0))


def restart(
    deployment: Deployment, service: str, fault: str | None = None, env: dict[str, str] | None = None
) -> None:
    """Stop a service (SIGKILL if it still runs) and start it again, with ``REHAB_FAULT`` if given
    and extra environment ``env``."""
    services = deployment.services
    if service in services.processes:
        services.kill(service)
    services.start_one(service, {**(env or {}), **({"REHAB_FAULT": fault} if fault else {})})
    services.wait_healthy(timeout=30.0)


def wait_killed_by_fault(deployment: Deployment, service: str, timeout: float = 20.0) -> None:
    """Wait until the service killed itself at its fault point (exit 137), and forget the process."""
    process = deployment.services.processes[service]
    try:
        code = process.wait(timeout=timeout)
    except Exception as error:
        raise AssertionError(f"{service} did not reach its fault point within {timeout:.0f}s") from error
    assert code == KILLED, f"{service} exited with {code}, not at its fault point"
    deployment.services.kill(service)  # already dead: only forgets the process


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting until {what}")
        time.sleep(0.1)


def groups_caught_up(redis_url: str) -> bool:
    """Every subscribing group has read every entry of its producer streams and acknowledged them."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for producer in PRODUCERS:
            stream = STREAM_OF_PRODUCER[producer]
            groups = {group["name"]: group for group in client.xinfo_groups(stream)}
            last = client.xinfo_stream(stream)["last-generated-id"]
            for consumer, producers in SUBSCRIBES_TO.items():
                group = groups.get(consumer)
                if producer in producers and (group is None or not _read_everything(group, last)):
                    return False
        return True
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _read_everything(group: dict[str, Any], last_generated_id: str) -> bool:
    """Nothing pending and nothing left to read. After a trim Redis 7.0 may count a lag that is not
    there (entries trimmed before the group read them stay in it), so the last-delivered id decides."""
    if group["pending"] != 0:
        return False
    return bool(group["lag"] == 0 or group["last-delivered-id"] == last_generated_id)


def verify(deployment: Deployment, databases: dict[str, str] | None = None) -> list[CheckResult]:
    """`rehab verify` over the deployment: its services' SQLite files, or the ``databases`` URLs given."""
    return verify_deployment(store_urls(deployment.services.var_dir, databases or {}), deployment.redis.url)


EXPECTED_DEAD_LETTERS: set[str] = set()
"""Event ids a scenario dead-lettered on purpose (poison events). `rehab verify` reports every dead
letter (issue 14), and the package's deployment keeps them, so the later scenarios accept these."""


def expect_dead_letters(*event_ids: str) -> None:
    EXPECTED_DEAD_LETTERS.update(event_ids)


def clean(results: list[CheckResult]) -> bool:
    """Every check holds, but for the dead letters a scenario expected."""
    return all(
        result.ok or (result.code == "I3" and all(map(_expected, result.violations))) for result in results
    )


def _expected(violation: str) -> bool:
    about_dead_letter = "dead-lettered" in violation or "dead letter" in violation
    return about_dead_letter and any(event_id in violation for event_id in EXPECTED_DEAD_LETTERS)


def wait_clean(
    deployment: Deployment, timeout: float = 30.0, databases: dict[str, str] | None = None
) -> list[CheckResult]:
    """Wait until the deployment is quiescent and every `rehab verify` check holds (but for the dead
    letters a scenario expected); fail with the report. ``databases``: the services' store URLs when they
    are not the SQLite files of the deployment's folder."""
    deadline = time.monotonic() + timeout
    results: list[CheckResult] = []
    while time.monotonic() < deadline:
        if deployment.journey.producers_published_everything() and groups_caught_up(deployment.redis.url):
            results = verify(deployment, databases)
            if clean(results):
                return results
        time.sleep(0.25)
    results = results or verify(deployment, databases)
    raise AssertionError(f"rehab verify is not clean after {timeout:.0f}s:\n{render(results)}")


def count(results: list[CheckResult], code: str, name: str) -> int:
    return next(result for result in results if result.code == code).counts[name]


def assert_nothing_lost_nor_paid_twice(results: list[CheckResult]) -> None:
    assert count(results, "I2", "unpublished") == count(results, "I2", "entry missing from stream") == 0
    assert count(results, "I3", "lost (neither)") == 0
    assert count(results, "I4", "keys posted twice") == 0
    assert count(results, "I4", "rule and source events posted twice") == 0


def postings_for(deployment: Deployment, person_id: str, rule: str = "survey_fee") -> list[dict[str, Any]]:
    postings = every_posting(deployment.services.url("settlement") + "/ledger/postings", rule=rule)
    return [posting for posting in postings if person_id in posting["key"]]


def consumer_health(deployment: Deployment, service: str) -> dict[str, int]:
    return dict(httpx.get(deployment.services.url(service) + "/health", timeout=5.0).json()["consumer"])


def entries_of(redis_url: str, stream: str, event_id: str) -> list[str]:
    """Entry ids on ``stream`` carrying the event."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = entries(client, stream)
        return [entry_id for entry_id, fields in found if fields.get("event_id") == event_id]
    finally:
        client.close()
