"""Seeded randomized soak (opt-in: ``pytest -m soak``): rounds of load, each with one fault drawn
at random (processes SIGKILLed or SIGSTOPped, a fault point, Redis killed or stopped, a group or a
stream deleted, an entry duplicated), each round ending with `rehab verify` clean, nothing lost
and nothing paid twice. A failure names its seed: ``REHAB_SOAK_SEED=<seed> pytest -m soak``
replays the same sequence of faults (``REHAB_SOAK_ROUNDS`` sets how many rounds, default 12)."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from rehab_contracts import STREAM_OF_PRODUCER

from rehab.verify import SUBSCRIBES_TO
from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    STREETS,
    YEAR,
    LoadDriver,
    assert_nothing_lost_nor_paid_twice,
    paused,
    restart,
    settled_once_each,
    wait_clean,
)
from tests.streams import add, entries

pytestmark = [pytest.mark.e2e, pytest.mark.soak]

PERSONS = 6
"""Persons registered and surveyed per round."""

Fault = Callable[[Deployment, random.Random], Callable[[], None] | None]
"""Injects a fault; may return what to do once the round's load is over (e.g. restart a process)."""


class RetryingDriver(LoadDriver):
    """The load driver as a careful client: every command keyed, retried on a dropped connection or a
    5xx with the same Idempotency-Key, so a command the service recorded before dying is not sent twice."""

    def run(self) -> None:
        for n in range(self.persons):
            sequence = self.first + n
            person = certified_adult(sequence, street=STREETS[n % len(STREETS)], category="mental", digit=6)
            try:
                registered = self.post(
                    "/persons", {**person, "registered_on": f"{YEAR}-03-01"}, f"r-{sequence}"
                )
                person_id = str(registered["person_id"])
                self.post(f"/persons/{person_id}/surveys", survey_body(), f"s-{sequence}")
                self.accepted.append(person_id)
            except (httpx.HTTPError, RuntimeError) as error:
                self.refused.append(f"{n}: {error}")
            time.sleep(self.pause)

    def post(self, path: str, body: dict[str, Any], key: str, attempts: int = 60) -> dict[str, Any]:
        for _ in range(attempts):
            try:
                answer = self.journey.client.post(
                    self.journey.url("survey") + path, json=body, headers={"Idempotency-Key": key}
                )
                if answer.status_code < 500:
                    if answer.status_code != 201:
                        raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text}")
                    return dict(answer.json())
            except httpx.TransportError:
                pass  # the service died or restarts: send the same command again
            time.sleep(0.5)
        raise RuntimeError(f"POST {path} was never accepted")


def survey_body() -> dict[str, Any]:
    return {
        "survey_year": YEAR,
        "surveyed_on": f"{YEAR}-03-15",
        "has_needs": True,
        "needed_items": ["support_service_mental"],
        "home_visit_required": False,
        "surveyor": "社区康复协调员 张丽",
    }


# -- the faults ------------------------------------------------------------------------------------
def kill_service(deployment: Deployment, rng: random.Random) -> None:
    restart(deployment, rng.choice(["survey", "assessment", "settlement"]))


def stop_service(deployment: Deployment, rng: random.Random) -> None:
    service = rng.choice(["assessment", "settlement"])
    with paused(deployment.services.processes[service].pid):
        time.sleep(rng.uniform(0.5, 3.0))


def kill_at_fault_point(deployment: Deployment, rng: random.Random) -> Callable[[], None]:
    point = rng.choice(["consumer.before_commit", "consumer.after_commit"])
    services = deployment.services
    services.kill("settlement")
    # Not waiting until it is healthy: under load it may reach its fault point at once.
    services.start_one("settlement", {"REHAB_FAULT": f"{point}:{rng.randint(1, 4)}"})

    def revive() -> None:  # dead at its fault point, or never reached it: run it normally again
        process = deployment.services.processes["settlement"]
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5.0)
        restart(deployment, "settlement")

    return revive


def kill_redis(deployment: Deployment, rng: random.Random) -> None:
    deployment.redis.kill()
    time.sleep(rng.uniform(0.2, 2.0))
    deployment.redis.start()


def stop_redis(deployment: Deployment, rng: random.Random) -> None:
    assert deployment.redis.process is not None
    with paused(deployment.redis.process.pid):
        time.sleep(rng.uniform(0.5, 6.0))


def destroy_group(deployment: Deployment, rng: random.Random) -> None:
    consumer = rng.choice(sorted(SUBSCRIBES_TO))
    stream = STREAM_OF_PRODUCER[rng.choice(SUBSCRIBES_TO[consumer])]
    with_client(deployment, lambda client: client.xgroup_destroy(stream, consumer))


def delete_stream(deployment: Deployment, rng: random.Random) -> None:
    with_client(deployment, lambda client: client.delete(STREAM_OF_PRODUCER["survey"]))


def duplicate_entry(deployment: Deployment, rng: random.Random) -> None:
    def again(client: redis.Redis) -> None:
        found = entries(client, STREAM_OF_PRODUCER["survey"])
        if found:
            add(client, STREAM_OF_PRODUCER["survey"], rng.choice(found)[1])

    with_client(deployment, again)


def with_client(deployment: Deployment, action: Callable[[redis.Redis], Any]) -> None:
    client = redis.Redis.from_url(deployment.redis.url, decode_responses=True)
    try:
        action(client)
    except redis.ResponseError:
        pass  # the stream or group is already gone: the fault is moot
    finally:
        client.close()


FAULTS: dict[str, Fault] = {
    "a service SIGKILLed": kill_service,
    "a consumer SIGSTOPped": stop_service,
    "settlement killed at a fault point": kill_at_fault_point,
    "redis-server SIGKILLed": kill_redis,
    "redis-server SIGSTOPped": stop_redis,
    "a consumer group destroyed": destroy_group,
    "the survey stream deleted": delete_stream,
    "an entry published twice": duplicate_entry,
}


def soak_seed() -> int:
    given = os.environ.get("REHAB_SOAK_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


def run_round(deployment: Deployment, rng: random.Random, number: int, fault: str) -> None:
    driver = RetryingDriver(deployment, first=1000 + number * PERSONS, persons=PERSONS, pause=0.05)
    driver.start()
    time.sleep(rng.uniform(0.0, 1.0))
    after = FAULTS[fault](deployment, rng)
    accepted = driver.finish(timeout=180.0)
    if after is not None:
        after()
    assert_nothing_lost_nor_paid_twice(wait_clean(deployment, timeout=90.0))
    settled_once_each(deployment, accepted)


def test_a_seeded_random_sequence_of_faults_under_load_loses_nothing_and_pays_nothing_twice(
    deployment: Deployment,
) -> None:
    seed = soak_seed()
    rng = random.Random(seed)
    rounds = int(os.environ.get("REHAB_SOAK_ROUNDS", "12"))
    print(f"soak: seed {seed}, {rounds} rounds (replay: REHAB_SOAK_SEED={seed} pytest -m soak)")
    for number in range(rounds):
        fault = rng.choice(sorted(FAULTS))
        print(f"soak round {number}: {fault}")
        try:
            run_round(deployment, rng, number, fault)
        except BaseException as error:
            raise AssertionError(
                f"soak failed in round {number} ({fault}); replay with REHAB_SOAK_SEED={seed} pytest -m soak"
            ) from error
