"""Services refuse Redis's default user outside demo mode; when demo mode applies by default."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from kernel.messaging.durability import default_user_problems, redis_user
from kernel.runtime import ServiceSettings
from rehab.local_redis import AGENCY_USERS, LocalRedis, free_port


def problems_as(url: str, service: str, demo: bool) -> tuple[str | None, list[str]]:
    async def check() -> tuple[str | None, list[str]]:
        client = Redis.from_url(url)
        try:
            return await redis_user(client), await default_user_problems(client, service, demo=demo)
        finally:
            await client.aclose()

    return asyncio.run(check())


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    """A redis-server with deploy/redis/users.acl (default user off)."""
    server = LocalRedis(tmp_path_factory.mktemp("acl-redis"), free_port(), aclfile=AGENCY_USERS).start()
    yield server
    server.stop()


def test_the_default_user_is_refused_outside_demo_mode_with_the_fix_named(redis_url: str) -> None:
    user, problems = problems_as(redis_url, "approval", demo=False)
    assert user == "default"
    [problem] = problems
    assert "'default' user" in problem
    assert "REHAB_REDIS_URL=redis://approval:<password>@" in problem
    assert "deploy/redis/users.acl" in problem and "REHAB_DEMO=1" in problem


def test_the_default_user_is_allowed_in_demo_mode(redis_url: str) -> None:
    assert problems_as(redis_url, "approval", demo=True) == ("default", [])


def test_a_service_connected_as_its_own_acl_user_passes_outside_demo_mode(acl_redis: LocalRedis) -> None:
    assert problems_as(acl_redis.user_url("approval"), "approval", demo=False) == ("approval", [])


@pytest.mark.parametrize(
    ("settings", "demo"),
    [
        ({"redis_url": "redis://127.0.0.1:6379/0"}, True),  # one machine: a developer's or a demo
        ({"redis_url": "redis://localhost:6390/0"}, True),
        ({"redis_url": "redis://redis.internal:6379/0"}, False),  # a shared Redis: never by default
        ({"redis_url": "redis://10.0.0.5:6379/0", "demo": True}, True),  # REHAB_DEMO=1 says so
        ({"redis_url": "redis://127.0.0.1:6379/0", "demo": False}, False),  # REHAB_DEMO=0
        ({"redis_url": "redis://127.0.0.1:6379/0", "env": "production"}, False),
        ({"redis_url": "redis://127.0.0.1:6379/0", "env": "production", "demo": True}, False),
    ],
)
def test_demo_mode_is_on_for_a_local_redis_unless_said_otherwise_and_never_in_production(
    settings: dict[str, Any], demo: bool
) -> None:
    assert ServiceSettings(service="survey", **settings).demo_mode is demo


def test_demo_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_DEMO", "0")
    assert ServiceSettings(service="survey").demo_mode is False
    monkeypatch.setenv("REHAB_DEMO", "1")
    monkeypatch.setenv("REHAB_REDIS_URL", "redis://redis.internal:6379/0")
    assert ServiceSettings(service="survey").demo_mode is True


def test_a_service_on_the_default_user_outside_demo_mode_neither_publishes_nor_consumes(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    from services.approval.app import create_app

    settings = ServiceSettings(service="approval", var_dir=tmp_path, redis_url=redis_url, demo=False)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while (status := client.get("/health").json()["status"]) == "ok":
            assert time.monotonic() < deadline, "the service did not refuse the default user"
            time.sleep(0.05)
        assert redis_client.exists("rehab.assessment.events") == 0  # no consumer group was created
    assert status.startswith("blocked: unsafe Redis settings: connected to Redis as its 'default' user")


def test_a_user_that_may_not_say_who_it_is_is_refused_naming_the_permission_to_grant(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.acl_setuser(
        "tight-lipped", enabled=True, passwords=["+secret"], keys=["*"], commands=["+ping"]
    )
    try:
        url = redis_url.replace("redis://", "redis://tight-lipped:secret@", 1)
        user, problems = problems_as(url, "survey", demo=False)
    finally:
        redis_client.acl_deluser("tight-lipped")
    if user is None:  # Redis 7.0 does not name the user in its refusal
        assert problems == [
            "cannot tell which Redis user this is: grant it +acl|whoami (deploy/redis/users.acl does)"
        ]
    else:  # Redis 7.2+ does
        assert (user, problems) == ("tight-lipped", [])
