"""A service's relay protects the consumer groups its deployment says read its stream, created or not:
entries that left the stream before such a group was created are published again (issue 16)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rehab_contracts import APPROVAL_STREAM, DELIVERY_STREAM, SURVEY_STREAM

from kernel.consuming import groups_reading
from kernel.runtime import ServiceSettings, create_service_app
from tests.kernel.test_idempotent_commands import post, survey_router
from tests.streams import entries, read_group


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def event_ids(client: redis.Redis) -> list[str]:
    return [fields["event_id"] for _entry_id, fields in entries(client, SURVEY_STREAM)]


def test_the_groups_reading_a_stream_are_those_of_the_services_subscribing_to_its_producer() -> None:
    assert groups_reading(SURVEY_STREAM) == {"assessment", "settlement"}
    assert groups_reading(APPROVAL_STREAM) == {"survey", "delivery", "settlement"}
    assert groups_reading(DELIVERY_STREAM) == {"settlement"}
    assert groups_reading("rehab.elsewhere.events") == set()


def test_entries_trimmed_before_a_declared_group_was_created_are_published_again(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settlement has not started: assessment read and acknowledged survey's entries, then someone trimmed
    the stream (XTRIM MAXLEN 0) while survey restarted. Counting assessment's group alone, as a relay that
    starts knowing only the groups on the stream does, nothing was lost."""
    monkeypatch.setenv("REHAB_STREAM_RETENTION_SECONDS", "0")
    redis_client.xgroup_create(SURVEY_STREAM, "assessment", id="0", mkstream=True)
    settings = ServiceSettings(
        service="survey", database_url=f"sqlite:///{tmp_path}/survey.db", redis_url=redis_url
    )
    with TestClient(survey_app(settings)) as client:
        for _ in range(3):
            assert post(client, uuid4(), key=None).status_code == 201
        wait_until(lambda: redis_client.xlen(SURVEY_STREAM) == 3)
    published = event_ids(redis_client)
    delivered = read_group(redis_client, SURVEY_STREAM, "assessment", "c1")
    redis_client.xack(SURVEY_STREAM, "assessment", *[entry_id for entry_id, _ in delivered])
    assert redis_client.xtrim(SURVEY_STREAM, maxlen=0) == 3

    with TestClient(survey_app(settings)):
        wait_until(lambda: redis_client.xlen(SURVEY_STREAM) == 3)  # the relay's first loss check
        assert event_ids(redis_client) == published

    redis_client.xgroup_create(SURVEY_STREAM, "settlement", id="0")  # settlement starts: it reads them all
    read = read_group(redis_client, SURVEY_STREAM, "settlement", "c1")
    assert [fields["event_id"] for _entry_id, fields in read] == published


def survey_app(settings: ServiceSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="t",
        description="d",
        routers=[survey_router()],
        publishes_to=SURVEY_STREAM,
        subscriptions=[],
    )
