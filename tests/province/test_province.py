"""The province simulation (issue 16, item 7): two instances of services on one PostgreSQL server and a Redis
Sentinel group, a bounded load, the settlement leader killed, the Redis primary killed, then `rehab verify`
clean: nothing lost, nothing paid twice, the live ledger equal to its replay.

* ``test_a_small_province_…`` (default run, about 20 s): two survey and two settlement instances; persons
  registered and surveyed through both survey instances, one every 0.1 s, from before the first fault until
  after the second (at least 10).
* ``test_a_province_…`` (opt-in, ``pytest -m soak tests/province``): two instances of each of the five
  services; the whole year's journey of ``REHAB_PROVINCE_PERSONS`` sample persons (default 120) through
  randomly chosen instances (rehab demo's stages), the same two faults during its first stages (the demo's
  last stage reads ``/health``, which is 503 while Redis fails over); then the killed instance comes back as
  a standby and the leader is frozen (SIGSTOP) until a standby takes over, then thawed: it stands by.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from rehab.demo import run_demo
from tests.kernel.redis_sentinel_group import SentinelGroup
from tests.province.province import Instance, Province, violations, wait_for
from tests.survey.people import make_id, person_body, survey_request

pytestmark = pytest.mark.e2e  # real processes of the services; the long run is also `soak`

PERSONS = 10
"""Persons surveyed in the small province at least; the load goes on until both faults are over."""

needs_servers = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (scripts/setup)"
)


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "redis")
    try:
        yield group.start()
    finally:
        group.stop()


def province(tmp_path: Path, postgres_url: str, group: SentinelGroup, instances: dict[str, int]) -> Province:
    return Province(tmp_path / "province", postgres_url, group, instances)


class Surveys(threading.Thread):
    """Registers and surveys persons, one every ``pause`` seconds, alternating the survey instances: at least
    ``persons``, and on until :meth:`stop`."""

    def __init__(self, instances: list[Instance], persons: int, pause: float = 0.1) -> None:
        super().__init__(name="province-load")
        self.instances, self.persons, self.pause = instances, persons, pause
        self.failures: list[str] = []
        self.surveyed = 0
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=60)

    def run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while self.surveyed < self.persons or not self._stopping.is_set():
                url = self.instances[self.surveyed % len(self.instances)].url
                try:
                    survey_one(client, url, self.surveyed)
                except (httpx.HTTPError, AssertionError) as error:
                    self.failures.append(f"person {self.surveyed}: {error}")
                self.surveyed += 1
                time.sleep(self.pause)


def survey_one(client: httpx.Client, url: str, sequence: int) -> None:
    id_number = make_id(date(1958, 4, 12), f"{2 * sequence + 1:03d}")
    body = person_body(id_number=id_number, certificate_number=id_number + "12")
    registered = client.post(url + "/persons", json=body)
    assert registered.status_code == 201, registered.text
    request = survey_request()
    survey = {
        "survey_year": request.survey_year,
        "surveyed_on": request.surveyed_on.isoformat(),
        "has_needs": request.has_needs,
        "needed_items": list(request.needed_items),
        "home_visit_required": request.home_visit_required,
        "surveyor": request.surveyor,
    }
    surveyed = client.post(f"{url}/persons/{registered.json()['person_id']}/surveys", json=survey)
    assert surveyed.status_code in (200, 201), surveyed.text


def kill_the_settlement_leader(running: Province) -> float:
    """SIGKILL the leader; seconds until a standby leads."""
    leader = running.leader()
    assert leader is not None
    running.kill(leader)
    return wait_for(lambda: running.leader() is not None, "a standby to take over", timeout=15)


def kill_the_redis_primary(group: SentinelGroup) -> float:
    """SIGKILL the primary; seconds until the Sentinels name the replica."""
    started = time.monotonic()
    group.kill("node-0")
    wait_for(lambda: group.primary_port() == group.ports[1], "the replica's promotion", timeout=30)
    return time.monotonic() - started


def behind(running: Province) -> list[str]:
    """Why the province has not caught up: an instance not ready, events unpublished, or settlement has not
    archived every event produced; empty once it has."""
    reasons: list[str] = []
    stored: dict[str, int] = {}
    received = 0
    for instance in running.running:
        if not instance.alive():
            continue  # killed on purpose
        health = instance.health()
        if health is None or not health["ready"]:
            reasons.append(f"{instance.name} not ready: {health and health.get('problems')}")
            continue
        events: dict[str, int] = health["events"]
        if health["service"] == "settlement":
            received = max(received, events["received"])
        elif health["service"]:
            stored[health["service"]] = events["stored"]
            if events["unpublished"]:
                reasons.append(f"{instance.name}: {events['unpublished']} unpublished")
    if received < sum(stored.values()):
        reasons.append(f"settlement received {received} of {sum(stored.values())} events")
    return reasons


@needs_servers
def test_a_small_province_survives_its_settlement_leader_and_its_redis_primary_killed_under_load(
    tmp_path: Path, postgres_url: str, sentinel_group: SentinelGroup
) -> None:
    running = province(tmp_path, postgres_url, sentinel_group, {"survey": 2, "settlement": 2}).start()
    try:
        wait_for(lambda: running.leader() is not None, "a settlement leader")
        load = Surveys(running.of("survey"), persons=PERSONS)
        load.start()
        time.sleep(0.5)
        takeover = kill_the_settlement_leader(running)
        failover = kill_the_redis_primary(sentinel_group)
        load.stop()
        assert load.failures == []  # the API never waits for Redis nor for settlement

        wait_for(
            lambda: not behind(running), "every event settled", timeout=60, explain=lambda: behind(running)
        )
        verify = running.verify
        wait_for(
            lambda: not violations(verify()), "rehab verify clean", 20, explain=lambda: violations(verify())
        )
        print(f"settlement took over in {takeover:.1f}s, Redis failed over in {failover:.1f}s")
        assert takeover < 5.0 and failover < 15.0
        [replay] = [result for result in running.verify() if result.code == "I5"]
        assert replay.counts["live postings"] >= load.surveyed  # a survey fee each, at least
    finally:
        running.stop()


@pytest.mark.soak
@needs_servers
def test_a_province_runs_a_years_journey_through_its_leader_and_primary_killed(
    tmp_path: Path, postgres_url: str, sentinel_group: SentinelGroup
) -> None:
    services = ("survey", "assessment", "approval", "delivery", "settlement")
    running = province(tmp_path, postgres_url, sentinel_group, dict.fromkeys(services, 2)).start(timeout=120)
    persons = int(os.environ.get("REHAB_PROVINCE_PERSONS", "120"))
    rng = random.Random(persons)
    frozen: set[str] = set()
    try:
        wait_for(lambda: running.leader() is not None, "a settlement leader")

        def url(service: str) -> str:  # settlement is read only at the end, when nothing is frozen
            return rng.choice([i for i in running.of(service) if i.name not in frozen]).url

        outcome: list[BaseException] = []
        journey = threading.Thread(target=lambda: _run(url, persons, outcome), name="province-journey")
        journey.start()
        time.sleep(3.0)
        killed = running.leader()
        takeover = kill_the_settlement_leader(running)
        time.sleep(2.0)
        failover = kill_the_redis_primary(sentinel_group)
        assert killed is not None
        running.restart(killed)  # back as a standby
        wait_for(lambda: killed.role() == "standby", "the killed instance back as a standby", timeout=60)
        freeze = freeze_the_settlement_leader(running, frozen)
        journey.join(timeout=600)
        assert outcome == [] and not journey.is_alive()

        wait_for(
            lambda: not behind(running), "every event settled", timeout=300, explain=lambda: behind(running)
        )
        verify = running.verify
        wait_for(
            lambda: not violations(verify()), "rehab verify clean", 60, explain=lambda: violations(verify())
        )
        print(f"settlement took over in {takeover:.1f}s, Redis failed over in {failover:.1f}s, {freeze}")
        assert takeover < 5.0 and failover < 15.0
    finally:
        running.stop()


def freeze_the_settlement_leader(running: Province, frozen: set[str]) -> str:
    """SIGSTOP the leader until the server ends its silent session and a standby leads, then SIGCONT it:
    it must find itself deposed (its writes meanwhile fenced) and stand by."""
    leader = running.leader()
    assert leader is not None
    frozen.add(leader.name)
    leader.process.send_signal(signal.SIGSTOP)
    try:
        took = wait_for(
            lambda: any(i.role() == "leader" for i in running.of("settlement") if i is not leader),
            "a standby to take over from a frozen leader",
            timeout=30,
        )
    finally:
        leader.process.send_signal(signal.SIGCONT)
    stood_by = wait_for(lambda: leader.role() == "standby", "the thawed leader to stand by", timeout=30)
    frozen.discard(leader.name)
    return f"a frozen leader replaced in {took:.1f}s, standing by {stood_by:.1f}s after it thawed"


def _run(url: object, persons: int, outcome: list[BaseException]) -> None:
    try:
        run_demo(url, persons=persons, seed=persons)  # type: ignore[arg-type]
    except BaseException as error:  # reported by the test thread
        outcome.append(error)
