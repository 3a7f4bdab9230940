"""Remove the names of consumers that are gone from a stream's consumer groups, never one holding entries.

Each process consumes under a name of its own (``<service>-<host>-<pid>-<random>``, ``consumer_name``), and
Redis keeps a consumer in its group until it is deleted: every restart left one more in ``XINFO CONSUMERS``.
A consumer idle for ``idle_seconds`` (no read or claim since; a live one reads every half second, a settlement
standby not at all, and is created again when it leads) with nothing pending is deleted. The check and the
``XGROUP DELCONSUMER`` are one Lua script, so no entry can be delivered to it in between: deleting a consumer
drops its pending entries from the group, which would then never be delivered again.

Runs with retention, as the ``retention`` Redis user (deploy/redis/users.acl), on the producer's stream.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

log = logging.getLogger(__name__)

DEFAULT_IDLE_SECONDS = 24 * 3600.0
"""A day: far past any pause of a live consumer; a standby that leads later reads under its name again."""

# Returns the names deleted. ARGV: the least idle time in ms.
_DELETE_IDLE_CONSUMERS = """
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then return {} end
local deleted = {}
for _, group in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name
  for i = 1, #group, 2 do if group[i] == 'name' then name = group[i + 1] end end
  for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, name)) do
    local info = {}
    for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
    if tonumber(info['pending']) == 0 and tonumber(info['idle']) >= tonumber(ARGV[1]) then
      redis.call('XGROUP', 'DELCONSUMER', stream, name, info['name'])
      table.insert(deleted, name .. '/' .. info['name'])
    end
  end
end
return deleted
"""


async def delete_idle_consumers(redis: Redis, stream: str, idle_seconds: float | None = None) -> list[str]:
    """Delete every consumer of ``stream``'s groups idle ``idle_seconds`` (``DEFAULT_IDLE_SECONDS``) with
    nothing pending; their ``group/consumer`` names."""
    idle_seconds = DEFAULT_IDLE_SECONDS if idle_seconds is None else idle_seconds
    deleted = await redis.eval(_DELETE_IDLE_CONSUMERS, 1, stream, str(int(idle_seconds * 1000)))
    names = [name.decode() if isinstance(name, bytes) else str(name) for name in deleted or []]
    if names:
        log.info(
            "deleted %d consumers idle for %.0fs with nothing pending from %s",
            len(names),
            idle_seconds,
            stream,
        )
    return names
