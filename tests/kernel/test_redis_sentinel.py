"""Services on a Redis Sentinel group (``REHAB_REDIS_SENTINELS``): they reach the primary the Sentinels name,
and when it is killed under load and a replica promoted they follow it with nothing accepted lost (the
outbox publishes what Redis lost again, the consumers deduplicate)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts.streams import SURVEY_STREAM
from sqlalchemy import select

from kernel.messaging.connection import RedisAddress, parse_sentinels
from kernel.runtime import ServiceRuntime, ServiceSettings
from kernel.store.tables import events_table, inbox_table
from services.assessment.app import create_app as assessment
from services.survey.app import create_app as survey
from tests.apps import state_of
from tests.kernel.redis_sentinel_group import GROUP, HOST, SentinelGroup, wait_for
from tests.survey.people import make_id, person_body, survey_request

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def test_sentinels_are_read_as_host_port_pairs_and_a_wrong_one_is_refused_naming_the_variable() -> None:
    assert parse_sentinels(" 10.0.0.1:26379, [::1]:26380 ,") == (("10.0.0.1", 26379), ("::1", 26380))
    with pytest.raises(ValueError, match="host:port"):
        ServiceSettings(service="survey", redis_sentinels="10.0.0.1")


def test_without_sentinels_the_service_uses_its_redis_url_as_before() -> None:
    settings = ServiceSettings(service="survey", redis_url="redis://10.0.0.9:6380/0")
    assert settings.redis_address == RedisAddress("redis://10.0.0.9:6380/0", group="rehab")
    assert not settings.redis_address.uses_sentinel and not settings.demo_mode


def test_demo_mode_follows_the_sentinels_hosts_not_the_urls() -> None:
    local = ServiceSettings(
        service="survey", redis_url="redis://10.0.0.9/0", redis_sentinels="127.0.0.1:26379"
    )
    remote = ServiceSettings(service="survey", redis_sentinels="127.0.0.1:26379,10.0.0.2:26379")
    assert local.demo_mode and not remote.demo_mode


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "redis")
    try:
        yield group.start()
    finally:
        group.stop()


def settings_on(group: SentinelGroup, service: str, var_dir: Path) -> ServiceSettings:
    # The URL's host and port are not used with Sentinels: a wrong one proves the primary is asked for.
    return ServiceSettings(
        service=service,
        var_dir=var_dir,
        redis_url="redis://127.0.0.1:1/0",
        redis_sentinels=group.sentinels,
        redis_sentinel_group=GROUP,
    )


def survey_someone(client: TestClient, sequence: int) -> None:
    id_number = make_id(date(1958, 4, 12), f"{2 * sequence + 1:03d}")  # person_body()'s birthday, male
    body = person_body(id_number=id_number, certificate_number=id_number + "12")
    answer = client.post("/persons", json=body)
    assert answer.status_code == 201, answer.text
    person_id = answer.json()["person_id"]
    request = survey_request()
    body = {
        "survey_year": request.survey_year,
        "surveyed_on": request.surveyed_on.isoformat(),
        "has_needs": request.has_needs,
        "needed_items": list(request.needed_items),
        "home_visit_required": request.home_visit_required,
        "surveyor": request.surveyor,
    }
    surveyed = client.post(f"/persons/{person_id}/surveys", json=body)
    assert surveyed.status_code in (200, 201), surveyed.text


def runtime(client: TestClient) -> ServiceRuntime:
    found: ServiceRuntime = state_of(client).runtime
    return found


def surveyed_event_ids(client: TestClient) -> set[str]:
    with runtime(client).store.engine.connect() as connection:
        rows = connection.execute(
            select(events_table.c.event_id).where(events_table.c.event_type == "survey.need_surveyed")
        )
        return {row.event_id for row in rows}


def received_event_ids(client: TestClient) -> set[str]:
    with runtime(client).store.engine.connect() as connection:
        return {row.event_id for row in connection.execute(select(inbox_table.c.event_id))}


@needs_redis
def test_services_follow_a_killed_primary_to_the_promoted_replica_and_lose_nothing_accepted(
    sentinel_group: SentinelGroup, tmp_path: Path
) -> None:
    with (
        TestClient(survey(settings_on(sentinel_group, "survey", tmp_path / "survey"))) as surveys,
        TestClient(
            assessment(settings_on(sentinel_group, "assessment", tmp_path / "assessment"))
        ) as assessments,
    ):
        for sequence in range(10):
            survey_someone(surveys, sequence)
        wait_for(lambda: surveyed_event_ids(surveys) <= received_event_ids(assessments), "the first events")

        failures: list[BaseException] = []

        def keep_surveying() -> None:  # a small load across the failover: the API never waits for Redis
            try:
                for sequence in range(10, 40):
                    survey_someone(surveys, sequence)
                    time.sleep(0.05)
            except BaseException as error:  # reported by the test thread
                failures.append(error)

        load = threading.Thread(target=keep_surveying)
        load.start()
        time.sleep(0.3)
        sentinel_group.kill("node-0")
        wait_for(lambda: sentinel_group.primary_port() == sentinel_group.ports[1], "the replica's promotion")
        load.join(timeout=60)
        assert not failures, failures

        wait_for(lambda: runtime(surveys).store.counts()["unpublished"] == 0, "the outbox to drain", 60)
        surveyed = surveyed_event_ids(surveys)
        assert len(surveyed) == 40
        wait_for(
            lambda: surveyed <= received_event_ids(assessments), "every surveyed event at assessment", 60
        )
        promoted = redis.Redis(host=HOST, port=sentinel_group.ports[1], decode_responses=True)
        assert promoted.info("replication")["role"] == "master"
        entries: list[tuple[str, dict[str, str]]] = promoted.xrange(SURVEY_STREAM)  # type: ignore[assignment]
        on_promoted = {fields["event_id"] for _id, fields in entries}
        assert surveyed <= on_promoted  # what the old primary took but never replicated was published again
        assert surveys.get("/health").status_code == 200
        assert assessments.get("/health").status_code == 200
