"""Retention trims as its own Redis user (issue 14, defect 9): the agencies' users may not trim, so a
service trims its stream only through ``REHAB_RETENTION_REDIS_URL``, and only behind its slowest group."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.runtime import ServiceSettings, create_service_app
from rehab.local_redis import AGENCY_USERS, LocalRedis, free_port
from tests.kernel.test_idempotent_commands import post, survey_router
from tests.streams import entries, read_group

STREAM = "rehab.survey.events"


@pytest.fixture
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path_factory.mktemp("acl-redis"), free_port(), aclfile=AGENCY_USERS).start()
    yield server
    server.stop()


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def run_survey_with_retention(
    tmp_path: Path, server: LocalRedis, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Run survey as its own user with a 1 s retention; three events, all acknowledged by assessment and
    two by settlement (the groups that read survey's stream). Returns the stream's entry ids after a few
    trimming passes."""
    monkeypatch.setenv("REHAB_STREAM_RETENTION_SECONDS", "1")
    settlement = redis.Redis.from_url(server.user_url("settlement"), decode_responses=True)
    operator = redis.Redis.from_url(server.user_url("operator"), decode_responses=True)
    assessment = redis.Redis.from_url(server.user_url("assessment"), decode_responses=True)
    settlement.xgroup_create(STREAM, "settlement", id="0", mkstream=True)
    assessment.xgroup_create(STREAM, "assessment", id="0")
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=server.user_url("survey")
    )
    app = create_service_app(
        settings, title="t", description="d", routers=[survey_router()], publishes_to=STREAM, subscriptions=[]
    )
    with TestClient(app) as client:
        for _ in range(3):
            assert post(client, uuid4(), key=None).status_code == 201
        wait_until(lambda: operator.xlen(STREAM) == 3)
        delivered = read_group(settlement, STREAM, "settlement", "c1")
        settlement.xack(STREAM, "settlement", *[entry_id for entry_id, _ in delivered[:2]])
        read = read_group(assessment, STREAM, "assessment", "c1")
        assessment.xack(STREAM, "assessment", *[entry_id for entry_id, _ in read])
        time.sleep(3.0)  # several trimming passes (every second with a 1 s retention)
        return [entry_id for entry_id, _ in entries(operator, STREAM)]


def test_a_service_trims_its_stream_as_the_retention_user_behind_the_slowest_group(
    tmp_path: Path, acl_redis: LocalRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_RETENTION_REDIS_URL", acl_redis.user_url("retention"))

    assert len(run_survey_with_retention(tmp_path, acl_redis, monkeypatch)) == 1  # the pending one


def test_without_the_retention_user_the_agency_user_may_not_trim_and_says_so(
    tmp_path: Path, acl_redis: LocalRedis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("REHAB_RETENTION_REDIS_URL", raising=False)

    with caplog.at_level(logging.WARNING, logger="kernel.messaging.retention"):
        assert len(run_survey_with_retention(tmp_path, acl_redis, monkeypatch)) == 3

    assert any("REHAB_RETENTION_REDIS_URL" in record.getMessage() for record in caplog.records)
