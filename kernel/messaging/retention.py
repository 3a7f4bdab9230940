"""Stream retention: trim old entries of a stream, but never one a consumer group still needs.

The relay XADDs without MAXLEN, so without retention a stream grows for ever. Retention is on by
default: entries older than 30 days (``REHAB_STREAM_RETENTION_SECONDS``; 0 never trims) are removed
with ``XTRIM MINID`` — but only behind the slowest group: for every group, nothing at or after its
oldest pending entry and nothing after its last-delivered id is removed, however old.
The bound is computed and applied in one Lua script, so a group cannot move between the two.
A stream with no group, or missing one of the groups expected to read it, is not trimmed at all.
The same loop deletes the consumers gone from the stream's groups (``kernel.messaging.dead_consumers``).

Trimming runs as its own Redis user (``REHAB_RETENTION_REDIS_URL``, the ``retention`` user of
deploy/redis/users.acl): the agencies' users may not trim (issue 14), so without that URL the loop
runs on the service's connection and, under those users, only logs that it may not. With that URL the
client is made as the service's own (``kernel.messaging.connection``): the URL gives the user, password
and database, and under Sentinel or Cluster the current primary or each stream's node is followed as the
service's settings say, not the URL's host.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from pydantic import Field
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, RedisError, ResponseError

from kernel.config import RehabSettings
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.connection import RedisAddress, redis_client
from kernel.messaging.dead_consumers import delete_idle_consumers

log = logging.getLogger(__name__)

RETENTION_VARIABLE = "REHAB_STREAM_RETENTION_SECONDS"
RETENTION_REDIS_VARIABLE = "REHAB_RETENTION_REDIS_URL"
DEFAULT_EVERY_SECONDS = 60.0
DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600.0
"""Thirty days: far longer than a consumer stays down or behind (its entries are kept anyway while it
has not acknowledged them), long enough to re-create a group from the stream after an incident, and a
bound on a stream's memory (a province's ~5M events a year keep about 0.4M entries, ~0.4 GB in Redis)."""

# Returns {entries trimmed, the MINID used or why nothing was trimmed}.
# Entry ids are "<ms>-<seq>"; both parts fit a Lua number exactly (ms < 2^53).
_TRIM_BEHIND_SLOWEST_GROUP = """
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function lower(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am < bm or (am == bm and as < bs) then return a end
  return b
end
local function after(id)
  local ms, seq = parse(id)
  return string.format('%.0f-%.0f', ms, seq + 1)
end
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then return {0, 'no stream'} end
local groups = redis.call('XINFO', 'GROUPS', stream)
if #groups == 0 then return {0, 'no consumer group'} end
local bound = ARGV[1]
local present = {}
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  present[info['name']] = true
  bound = lower(bound, after(info['last-delivered-id']))
  if tonumber(info['pending']) > 0 then
    bound = lower(bound, redis.call('XPENDING', stream, info['name'])[2])
  end
end
for i = 2, #ARGV do
  if not present[ARGV[i]] then return {0, 'group ' .. ARGV[i] .. ' missing'} end
end
return {redis.call('XTRIM', stream, 'MINID', bound), bound}
"""


@dataclass(frozen=True)
class Trimmed:
    """What one trim pass did to one stream."""

    stream: str
    entries: int
    note: str
    """The MINID used, or why nothing was trimmed (no stream, no group, a group missing)."""


class RetentionSettings(RehabSettings):
    """How long stream entries are kept, and as whom they are trimmed."""

    stream_retention_seconds: float = Field(default=DEFAULT_RETENTION_SECONDS, ge=0)
    """``REHAB_STREAM_RETENTION_SECONDS``: unset keeps 30 days, 0 never trims; a negative one is refused."""
    retention_redis_url: str = ""
    """``REHAB_RETENTION_REDIS_URL``: the Redis user allowed to trim; unset: the service's own."""


def retention_seconds() -> float | None:
    """The retention period (30 days unless configured), or None when streams must not be trimmed."""
    return RetentionSettings().stream_retention_seconds or None


async def trim_behind_slowest_group(
    redis: Redis,
    stream: str,
    keep_seconds: float,
    expected_groups: Collection[str] = (),
    now: float | None = None,
) -> Trimmed:
    """Remove entries older than ``keep_seconds`` that every group has delivered and acknowledged."""
    cutoff_ms = max(0, int(((time.time() if now is None else now) - keep_seconds) * 1000))
    entries, note = await redis.eval(
        _TRIM_BEHIND_SLOWEST_GROUP, 1, stream, f"{cutoff_ms}-0", *sorted(expected_groups)
    )
    note = note.decode() if isinstance(note, bytes) else str(note)
    if entries:
        log.info("retention trimmed %d entries of %s below %s", entries, stream, note)
    return Trimmed(stream, int(entries), note)


async def trim_forever(
    redis: Redis,
    streams: Sequence[str],
    keep_seconds: float,
    expected_groups: Collection[str] = (),
    every_seconds: float = DEFAULT_EVERY_SECONDS,
    address: RedisAddress | None = None,
) -> None:
    """Trim each stream behind its slowest group every ``every_seconds``, until cancelled.

    Connects as ``REHAB_RETENTION_REDIS_URL`` when it is set, else trims through ``redis``; to the Redis
    ``address`` says (the service's: one server, a Sentinel group or a Cluster) with that URL's user.
    Every group the loop has once seen on a stream stays expected: while one is missing (deleted,
    Redis restarted empty) nothing is trimmed, since its re-created group must read from the start.
    """
    url = RetentionSettings().retention_redis_url.strip()
    if not url:
        await _trim_with(redis, streams, keep_seconds, expected_groups, every_seconds)
        return
    own = redis_client(replace(address, url=url) if address is not None else RedisAddress(url))
    try:
        await _trim_with(own, streams, keep_seconds, expected_groups, every_seconds)
    finally:
        await own.aclose()


async def _trim_with(
    redis: Redis,
    streams: Sequence[str],
    keep_seconds: float,
    expected_groups: Collection[str],
    every_seconds: float,
) -> None:
    seen: dict[str, set[str]] = {stream: set(expected_groups) for stream in streams}
    refused: set[str] = set()
    refused_deleting: set[str] = set()
    while True:
        raise_if_cancelled()
        for stream in streams:
            await _delete_gone_consumers(redis, stream, refused_deleting)
            try:
                seen[stream] |= await _group_names(redis, stream)
                await trim_behind_slowest_group(redis, stream, keep_seconds, seen[stream])
                refused.discard(stream)
            except NoPermissionError as error:
                # Said once, not every pass: retention is on by default, and a service run as its
                # agency's user without the retention user's URL would otherwise warn every minute.
                log.log(
                    logging.DEBUG if stream in refused else logging.WARNING,
                    "retention may not trim %s as this Redis user (%s): set %s to the retention user's URL",
                    stream,
                    error,
                    RETENTION_REDIS_VARIABLE,
                )
                refused.add(stream)
            except (RedisError, OSError) as error:
                log.warning("retention cannot trim %s yet: %s", stream, error)
        raise_if_cancelled()
        await asyncio.sleep(every_seconds)


async def _delete_gone_consumers(redis: Redis, stream: str, refused: set[str]) -> None:
    """Delete the consumers of ``stream``'s groups idle for a day with nothing pending (``dead_consumers``):
    each process start left one. A refusal is said once per stream."""
    try:
        await delete_idle_consumers(redis, stream)
        refused.discard(stream)
    except (NoPermissionError, ResponseError) as error:
        if not isinstance(error, NoPermissionError) and "can't run this command" not in str(error):
            log.warning("retention cannot delete the gone consumers of %s: %s", stream, error)
            return
        # EVAL refused (NoPermissionError), or a command of the script (a ResponseError saying so)
        log.log(
            logging.DEBUG if stream in refused else logging.WARNING,
            "retention may not delete the gone consumers of %s as this Redis user (%s): the retention "
            "user of deploy/redis/users.acl may (XINFO CONSUMERS, XGROUP DELCONSUMER)",
            stream,
            error,
        )
        refused.add(stream)
    except (RedisError, OSError) as error:
        log.debug("retention cannot delete the gone consumers of %s yet: %s", stream, error)


async def _group_names(redis: Redis, stream: str) -> set[str]:
    if not await redis.exists(stream):
        return set()
    groups = await redis.xinfo_groups(stream)
    return {name.decode() if isinstance(name, bytes) else str(name) for name in (g["name"] for g in groups)}
