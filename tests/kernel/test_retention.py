"""Retention against a real Redis: old entries are trimmed only behind the slowest consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import redis
from redis.asyncio import Redis

from kernel.config import SettingsInvalid
from kernel.messaging.retention import Trimmed, retention_seconds, trim_behind_slowest_group, trim_forever
from tests.kernel.consuming import with_redis
from tests.streams import add, entries, read_group

STREAM = "rehab.test.events"
IDS = [f"{second * 1000}-0" for second in range(1, 11)]
"""Ten entries, one per second from 1970-01-01T00:00:01 (entry ids are milliseconds)."""
LONG_AFTER = 1_000_000.0
"""A clock far after every entry: all of them are older than any retention period used here."""


def ten_entries(client: redis.Redis, *groups: str) -> None:
    for entry_id in IDS:
        add(client, STREAM, {"n": entry_id}, entry_id=entry_id)
    for group in groups:
        client.xgroup_create(STREAM, group, id="0")


def read(client: redis.Redis, group: str, count: int, acknowledge: int) -> None:
    """The group's consumer reads ``count`` entries and acknowledges the first ``acknowledge``."""
    for entry_id, _fields in read_group(client, STREAM, group, f"{group}-1", count=count)[:acknowledge]:
        client.xack(STREAM, group, entry_id)


def remaining(client: redis.Redis) -> list[str]:
    return [entry_id for entry_id, _fields in entries(client, STREAM)]


def trim(
    redis_url: str, keep_seconds: float = 60.0, expected: tuple[str, ...] = (), now: float = LONG_AFTER
) -> Trimmed:
    return with_redis(
        redis_url, lambda client: trim_behind_slowest_group(client, STREAM, keep_seconds, expected, now)
    )


def test_trimming_stops_at_the_oldest_entry_still_pending_in_any_group(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment", "settlement")
    read(redis_client, "assessment", count=10, acknowledge=10)  # caught up
    read(redis_client, "settlement", count=6, acknowledge=3)  # entries 4 to 6 pending, 7 to 10 unread

    trimmed = trim(redis_url)

    assert (trimmed.entries, trimmed.note) == (3, IDS[3])
    assert remaining(redis_client) == IDS[3:]


def test_trimming_stops_after_the_last_entry_the_slowest_group_was_delivered(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment", "settlement")
    read(redis_client, "assessment", count=10, acknowledge=10)
    read(redis_client, "settlement", count=5, acknowledge=5)  # nothing pending, 6 to 10 unread

    assert trim(redis_url).entries == 5
    assert remaining(redis_client) == IDS[5:]


def test_after_trimming_the_slowest_group_still_gets_every_entry_it_had_not_acknowledged(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment", "settlement")
    read(redis_client, "assessment", count=10, acknowledge=10)
    read(redis_client, "settlement", count=6, acknowledge=3)
    trim(redis_url)

    _next, claimed, deleted = redis_client.xautoclaim(STREAM, "settlement", "settlement-2", 0, "0-0")
    unread = read_group(redis_client, STREAM, "settlement", "settlement-2")

    assert deleted == []  # no pending entry was trimmed from under its group
    claimed_ids = [entry_id.decode() for entry_id, _fields in claimed]
    assert claimed_ids + [entry_id for entry_id, _fields in unread] == IDS[3:]


def test_entries_younger_than_the_retention_period_are_kept_even_when_every_group_consumed_them(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment")
    read(redis_client, "assessment", count=10, acknowledge=10)

    trimmed = trim(redis_url, keep_seconds=4.5, now=10.0)  # entries from 5.5 s on are young

    assert trimmed.entries == 5
    assert remaining(redis_client) == IDS[5:]


def test_a_stream_without_a_group_is_never_trimmed(redis_url: str, redis_client: redis.Redis) -> None:
    ten_entries(redis_client)

    assert (trim(redis_url).entries, trim(redis_url).note) == (0, "no consumer group")
    assert remaining(redis_client) == IDS


def test_a_stream_missing_an_expected_group_is_never_trimmed(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment")
    read(redis_client, "assessment", count=10, acknowledge=10)

    trimmed = trim(redis_url, expected=("assessment", "settlement"))

    assert (trimmed.entries, trimmed.note) == (0, "group settlement missing")
    assert remaining(redis_client) == IDS


def test_a_missing_stream_is_left_alone(redis_url: str, redis_client: redis.Redis) -> None:
    assert (trim(redis_url).entries, trim(redis_url).note) == (0, "no stream")
    assert redis_client.exists(STREAM) == 0


def test_the_retention_loop_trims_behind_the_slowest_group_until_cancelled(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment", "settlement")
    read(redis_client, "assessment", count=10, acknowledge=10)
    read(redis_client, "settlement", count=8, acknowledge=2)

    async def run_briefly(client: Redis) -> None:
        task = asyncio.create_task(trim_forever(client, [STREAM], keep_seconds=1.0, every_seconds=0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if redis_client.xlen(STREAM) < len(IDS):
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with_redis(redis_url, run_briefly)

    assert remaining(redis_client) == IDS[2:]


def test_the_retention_loop_does_not_trim_while_a_group_it_has_seen_is_missing(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ten_entries(redis_client, "assessment", "settlement")
    read(redis_client, "assessment", count=10, acknowledge=10)

    async def run_briefly(client: Redis) -> None:
        task = asyncio.create_task(trim_forever(client, [STREAM], keep_seconds=1.0, every_seconds=0.05))
        await asyncio.sleep(0.2)  # the loop has seen both groups (settlement keeps all entries)
        redis_client.xgroup_destroy(STREAM, "settlement")  # lost: it will be re-created at 0
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with_redis(redis_url, run_briefly)

    assert remaining(redis_client) == IDS


DAY = 86400.0


def test_by_default_entries_older_than_thirty_days_go_once_every_group_acknowledged_them(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_STREAM_RETENTION_SECONDS", raising=False)
    now = time.time()
    ages = {"40 days": 40 * DAY, "35 days": 35 * DAY, "31 days": 31 * DAY, "29 days": 29 * DAY}
    ids = {age: f"{int((now - seconds) * 1000)}-0" for age, seconds in ages.items()}
    for entry_id in ids.values():
        add(redis_client, STREAM, {"n": entry_id}, entry_id=entry_id)
    redis_client.xgroup_create(STREAM, "assessment", id="0")
    redis_client.xgroup_create(STREAM, "settlement", id="0")
    read(redis_client, "assessment", count=4, acknowledge=4)
    read(redis_client, "settlement", count=4, acknowledge=4)

    keep_seconds = retention_seconds()
    assert keep_seconds is not None
    trimmed = with_redis(redis_url, lambda client: trim_behind_slowest_group(client, STREAM, keep_seconds))

    assert trimmed.entries == 3
    assert remaining(redis_client) == [ids["29 days"]]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, 30 * DAY),
        ({"REHAB_STREAM_RETENTION_SECONDS": "0"}, None),
        ({"REHAB_STREAM_RETENTION_SECONDS": "86400"}, DAY),
    ],
)
def test_retention_keeps_thirty_days_unless_configured_and_0_turns_it_off(
    environ: dict[str, str], expected: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REHAB_STREAM_RETENTION_SECONDS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert retention_seconds() == expected


@pytest.mark.parametrize("value", ["-1", "a day"])
def test_a_wrong_retention_period_is_refused_with_the_variable_named(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_STREAM_RETENTION_SECONDS", value)
    with pytest.raises(SettingsInvalid, match="环境变量 REHAB_STREAM_RETENTION_SECONDS="):
        retention_seconds()
