"""Retention run as its own Redis user (``REHAB_RETENTION_REDIS_URL``) reaches the Redis the service's
settings name: under Sentinel the group's current primary, whatever host the URL names (it connected
to the URL's host alone, so under Sentinel or Cluster it trimmed nothing, or a replica refused it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis

from kernel.messaging.connection import RedisAddress
from kernel.messaging.retention import RETENTION_REDIS_VARIABLE, trim_forever
from tests.kernel.redis_sentinel_group import GROUP, HOST, SentinelGroup
from tests.kernel.test_retention import IDS, STREAM, read, remaining, ten_entries

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "redis")
    try:
        yield group.start()
    finally:
        group.stop()


def test_retention_with_its_own_url_trims_on_the_primary_the_sentinels_name(
    sentinel_group: SentinelGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary = redis.Redis(host=HOST, port=sentinel_group.ports[0])
    ten_entries(primary, "assessment")
    read(primary, "assessment", count=10, acknowledge=4)
    monkeypatch.setenv(RETENTION_REDIS_VARIABLE, NOBODY_LISTENS)  # the user's URL; its host is not asked
    address = RedisAddress.of(NOBODY_LISTENS, sentinel_group.sentinels, GROUP)

    async def run_briefly() -> None:
        service_redis = Redis.from_url(NOBODY_LISTENS)  # not used: retention has a URL of its own
        task = asyncio.create_task(
            trim_forever(service_redis, [STREAM], 1.0, every_seconds=0.05, address=address)
        )
        for _ in range(100):
            await asyncio.sleep(0.05)
            if primary.xlen(STREAM) < len(IDS):
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await service_redis.aclose()

    asyncio.run(run_briefly())
    try:
        assert remaining(primary) == IDS[4:]
    finally:
        primary.close()
