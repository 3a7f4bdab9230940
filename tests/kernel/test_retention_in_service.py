"""With REHAB_STREAM_RETENTION_SECONDS a service trims its own stream, only behind its slowest group."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import SURVEY_STREAM

from kernel.runtime import ServiceSettings, create_service_app
from tests.kernel.test_idempotent_commands import post, survey_router
from tests.kernel.test_relay_expected_groups import survey_app
from tests.streams import entries, read_group


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_service_trims_what_every_group_acknowledged_and_keeps_what_is_pending(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_STREAM_RETENTION_SECONDS", "1")
    stream = f"rehab.retention-{uuid4().hex[:8]}.events"
    redis_client.xgroup_create(stream, "settlement", id="0", mkstream=True)
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    app = create_service_app(
        settings, title="t", description="d", routers=[survey_router()], publishes_to=stream, subscriptions=[]
    )
    with TestClient(app) as client:
        for _ in range(3):
            assert post(client, uuid4(), key=None).status_code == 201
        wait_until(lambda: redis_client.xlen(stream) == 3)
        delivered = read_group(redis_client, stream, "settlement", "c1")
        for entry_id, _fields in delivered[:2]:  # the third stays pending
            redis_client.xack(stream, "settlement", entry_id)

        wait_until(lambda: redis_client.xlen(stream) == 1)
        time.sleep(2.5)  # more trimming passes: the pending entry must survive them

        assert [entry_id for entry_id, _ in entries(redis_client, stream)] == [delivered[2][0]]


def test_with_nothing_configured_a_service_trims_month_old_entries_every_group_acknowledged(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_STREAM_RETENTION_SECONDS", raising=False)
    stream = f"rehab.retention-{uuid4().hex[:8]}.events"
    month_old = f"{int((time.time() - 31 * 86400) * 1000)}-0"
    week_old = f"{int((time.time() - 7 * 86400) * 1000)}-0"
    for entry_id in (month_old, week_old):
        redis_client.xadd(stream, {"event_id": entry_id}, id=entry_id)
    redis_client.xgroup_create(stream, "settlement", id="0")
    delivered = read_group(redis_client, stream, "settlement", "c1")
    redis_client.xack(stream, "settlement", *[entry_id for entry_id, _ in delivered])
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    app = create_service_app(
        settings, title="t", description="d", routers=[survey_router()], publishes_to=stream, subscriptions=[]
    )
    with TestClient(app) as client:
        assert post(client, uuid4(), key=None).status_code == 201  # published, not yet read by settlement

        def kept() -> list[str]:
            return [entry_id for entry_id, _ in entries(redis_client, stream)]

        wait_until(lambda: len(kept()) == 2 and kept()[0] == week_old)  # the new one is young and unread


def test_a_producer_trims_nothing_while_a_group_its_subscribers_declare_has_not_been_created(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settlement has not started yet: assessment read and acknowledged survey's entries, settlement's
    group does not exist. Trimming behind assessment alone would remove what settlement must read."""
    monkeypatch.setenv("REHAB_STREAM_RETENTION_SECONDS", "1")
    redis_client.xgroup_create(SURVEY_STREAM, "assessment", id="0", mkstream=True)
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    with TestClient(survey_app(settings)) as client:
        for _ in range(3):
            assert post(client, uuid4(), key=None).status_code == 201
        wait_until(lambda: redis_client.xlen(SURVEY_STREAM) == 3)
        delivered = read_group(redis_client, SURVEY_STREAM, "assessment", "c1")
        redis_client.xack(SURVEY_STREAM, "assessment", *[entry_id for entry_id, _ in delivered])
        time.sleep(3.0)  # several trimming passes (every second with a 1 s retention)

        assert redis_client.xlen(SURVEY_STREAM) == 3  # all kept for settlement's group, not created yet

        redis_client.xgroup_create(SURVEY_STREAM, "settlement", id="0")  # settlement starts, reads them
        read = read_group(redis_client, SURVEY_STREAM, "settlement", "c1")
        redis_client.xack(SURVEY_STREAM, "settlement", *[entry_id for entry_id, _ in read])

        wait_until(lambda: redis_client.xlen(SURVEY_STREAM) == 0)  # every group the deployment names has them
