"""The consumers gone from a stream's groups (each process start leaves its name) are deleted by the
retention user once idle long with nothing pending; one holding entries, or reading, is kept."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
import redis
from redis.asyncio import Redis

from kernel.messaging import dead_consumers
from kernel.messaging.dead_consumers import delete_idle_consumers
from kernel.messaging.retention import RETENTION_REDIS_VARIABLE, trim_forever
from rehab.local_redis import AGENCY_USERS, LocalRedis, free_port
from tests.streams import read_group

STREAM = "rehab.survey.events"


@pytest.fixture
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path_factory.mktemp("acl-redis"), free_port(), aclfile=AGENCY_USERS).start()
    yield server
    server.stop()


def consumers(client: redis.Redis, group: str) -> dict[str, int]:
    return {
        (c["name"].decode() if isinstance(c["name"], bytes) else c["name"]): int(c["pending"])
        for c in client.xinfo_consumers(STREAM, group)
    }


def test_the_retention_user_deletes_idle_consumers_with_nothing_pending_and_keeps_the_others(
    acl_redis: LocalRedis,
) -> None:
    survey = redis.Redis.from_url(acl_redis.user_url("survey"))
    assessment = redis.Redis.from_url(acl_redis.user_url("assessment"))
    for n in range(3):
        survey.xadd(STREAM, {"n": str(n)})
    assessment.xgroup_create(STREAM, "assessment", id="0")
    [(first, _fields)] = read_group(assessment, STREAM, "assessment", "gone", count=1)
    assessment.xack(STREAM, "assessment", first)  # a process that stopped with nothing pending
    read_group(assessment, STREAM, "assessment", "gone-holding", count=1)  # stopped holding one
    time.sleep(0.3)
    [(third, _fields)] = read_group(
        assessment, STREAM, "assessment", "reading", count=1
    )  # alive: it just read
    assessment.xack(STREAM, "assessment", third)

    async def delete() -> list[str]:
        client = Redis.from_url(acl_redis.user_url("retention"))
        try:
            return await delete_idle_consumers(client, STREAM, idle_seconds=0.2)
        finally:
            await client.aclose()

    deleted = asyncio.run(delete())

    assert deleted == ["assessment/gone"]
    assert consumers(assessment, "assessment") == {"gone-holding": 1, "reading": 0}
    survey.close()
    assessment.close()


def test_the_retention_loop_deletes_the_gone_consumers_of_its_stream(
    acl_redis: LocalRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dead_consumers, "DEFAULT_IDLE_SECONDS", 0.1)
    monkeypatch.setenv(RETENTION_REDIS_VARIABLE, acl_redis.user_url("retention"))
    survey = redis.Redis.from_url(acl_redis.user_url("survey"))
    assessment = redis.Redis.from_url(acl_redis.user_url("assessment"))
    survey.xadd(STREAM, {"n": "1"})
    assessment.xgroup_create(STREAM, "assessment", id="0")
    [(entry, _fields)] = read_group(assessment, STREAM, "assessment", "gone", count=1)
    assessment.xack(STREAM, "assessment", entry)

    async def run_briefly() -> None:
        service_redis = Redis.from_url(acl_redis.user_url("survey"))  # may not delete: the loop uses its own
        task = asyncio.create_task(trim_forever(service_redis, [STREAM], 3600.0, every_seconds=0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not consumers(assessment, "assessment"):
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await service_redis.aclose()

    asyncio.run(run_briefly())

    assert consumers(assessment, "assessment") == {}
    survey.close()
    assessment.close()
