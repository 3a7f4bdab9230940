"""Does this Redis keep what it acknowledges? The relay marks an event published once XADD returns."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ResponseError

SAFE_FSYNC = {"always", "everysec"}


async def durability_problems(redis: Redis) -> list[str]:
    """Settings under which Redis could silently lose stream entries it acknowledged; empty when safe.

    - ``appendonly no``: a crash loses everything since the last snapshot;
    - ``appendfsync no``: the OS decides when the log reaches the disk;
    - any ``maxmemory-policy`` but ``noeviction``: Redis may evict whole streams under memory pressure.
    ``appendfsync everysec`` is accepted: a killed redis-server loses nothing, a power cut up to a second.
    """
    try:
        settings = {}
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            settings.update({_text(k): _text(v) for k, v in (await redis.config_get(name)).items()})
    except ResponseError as error:
        return [f"cannot read Redis persistence settings ({error}); grant CONFIG GET or allow volatile Redis"]
    problems = []
    if settings.get("appendonly") != "yes":
        problems.append("appendonly is not 'yes' (a crash loses acknowledged stream entries)")
    elif settings.get("appendfsync") not in SAFE_FSYNC:
        problems.append(f"appendfsync is {settings.get('appendfsync')!r}, not 'always' or 'everysec'")
    if settings.get("maxmemory-policy") != "noeviction":
        problems.append(f"maxmemory-policy is {settings.get('maxmemory-policy')!r}, not 'noeviction'")
    return problems


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
