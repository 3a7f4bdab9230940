"""Start-time checks of the Redis a service uses: does it keep what it acknowledges (the relay marks an
event published once XADD returns), and does the service connect as its own ACL user? On a Redis Cluster
every primary is asked (each keeps the streams of its slots), and a problem names its node."""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, ResponseError

from kernel.messaging.connection import each_primary

SAFE_FSYNC = {"always", "everysec"}


async def durability_problems(redis: Redis) -> list[str]:
    """Settings under which Redis could silently lose stream entries it acknowledged; empty when safe.

    - ``appendonly no``: a crash loses everything since the last snapshot;
    - ``appendfsync no``: the OS decides when the log reaches the disk;
    - any ``maxmemory-policy`` but ``noeviction``: Redis may evict whole streams under memory pressure.
    ``appendfsync everysec`` is accepted: a killed redis-server loses nothing, a power cut up to a second.

    Read with CONFIG GET where the user may run it (a local demo Redis), else from INFO: the agencies'
    ACL users may not read the configuration (it names files, addresses and replication passwords), and
    INFO tells the log and the eviction policy but not the fsync policy, which is then the operator's
    (deploy/redis/redis.conf sets ``always``; with ``no`` a killed redis-server still loses nothing).
    """
    problems = []
    for node, on_node in await each_primary(redis):
        found = await _node_durability_problems(redis, on_node)
        problems += [found_on if node is None else f"node {node}: {found_on}" for found_on in found]
    return problems


async def _node_durability_problems(redis: Redis, on_node: dict[str, Any]) -> list[str]:
    """:func:`durability_problems` of one server (``on_node``: the options sending a command to it)."""
    try:
        settings = await _configuration(redis, on_node)
    except NoPermissionError:
        try:
            settings = await _reported_by_info(redis, on_node)
        except ResponseError as error:
            return [f"cannot read Redis persistence settings ({error}); grant INFO (or CONFIG GET)"]
    except ResponseError as error:
        return [f"cannot read Redis persistence settings ({error}); grant INFO or allow volatile Redis"]
    problems = []
    if settings.get("appendonly") != "yes":
        problems.append("appendonly is not 'yes' (a crash loses acknowledged stream entries)")
    elif settings.get("appendfsync", "unknown") not in SAFE_FSYNC | {"unknown"}:
        problems.append(f"appendfsync is {settings.get('appendfsync')!r}, not 'always' or 'everysec'")
    if settings.get("maxmemory-policy") != "noeviction":
        problems.append(f"maxmemory-policy is {settings.get('maxmemory-policy')!r}, not 'noeviction'")
    return problems


async def _configuration(redis: Redis, on_node: dict[str, Any]) -> dict[str, str]:
    settings = {}
    for name in ("appendonly", "appendfsync", "maxmemory-policy"):
        reply = await redis.config_get(name, **on_node)
        settings.update({_text(k): _text(v) for k, v in reply.items() if k is not None and v is not None})
    return settings


async def _reported_by_info(redis: Redis, on_node: dict[str, Any]) -> dict[str, str]:
    """What INFO tells of the same settings (no CONFIG needed); the fsync policy stays unknown."""
    persistence = await redis.info("persistence", **on_node)
    memory = await redis.info("memory", **on_node)
    return {
        "appendonly": "yes" if int(persistence.get("aof_enabled", 0)) == 1 else "no",
        "maxmemory-policy": _text(memory.get("maxmemory_policy", "unknown")),
    }


async def redis_user(redis: Redis, on_node: dict[str, Any] | None = None) -> str | None:
    """The ACL user the connection authenticated as (``default`` on a Redis without ACLs); None if unknown.
    ``on_node``: the options sending the command to one node of a cluster (:func:`each_primary`)."""
    try:
        return _text(await redis.acl_whoami(**(on_node or {})))
    except NoPermissionError as error:
        # Redis names the user in the refusal: "NOPERM User <name> has no permissions to run ..."
        named = re.search(r"User (\S+) has no permissions", str(error))
        return named.group(1) if named else None
    except ResponseError as error:
        if "unknown command" in str(error).lower():
            return "default"  # Redis before 6.0: every connection is the default user
        raise


async def default_user_problems(redis: Redis, service: str, *, demo: bool) -> list[str]:
    """Why the service must not run on this connection's Redis user; empty when it may.

    Redis's ``default`` user is what every client without credentials gets, so a service running as
    it proves nothing about who writes which stream: refused outside demo mode. On a cluster each primary
    is asked (ACL users are each node's own).
    """
    if demo:
        return []
    users = [await redis_user(redis, on_node) for _node, on_node in await each_primary(redis)]
    if None in users:
        return ["cannot tell which Redis user this is: grant it +acl|whoami (deploy/redis/users.acl does)"]
    if "default" not in users:
        return []
    return [
        f"connected to Redis as its 'default' user, which any client without credentials gets; run {service} "
        f"as its own ACL user (REHAB_REDIS_URL=redis://{service}:<password>@<host>:<port>/0, users in "
        "deploy/redis/users.acl), or set REHAB_DEMO=1 for a demo"
    ]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
