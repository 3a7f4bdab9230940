"""What the messaging side tells ``/health`` and ``/metrics``: whether Redis serves this service's keys,
whether the relay publishes, and how far each consumer group lags behind its stream.

Redis is asked about the very keys the service uses (an empty ``XRANGE`` of its streams), not only ``PING``: a
Redis Cluster node answers ``PING`` but ``MOVED`` (the key lives on another node: a client that does not
speak cluster cannot use it) or ``CLUSTERDOWN`` for a key, and the relay would retry forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import (
    AskError,
    ClusterCrossSlotError,
    ClusterError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from kernel.messaging.dead_letters import as_text
from kernel.messaging.relay import OutboxRelay, RelayHealth
from kernel.store.store import EventStore
from kernel.store.tables import outbox_table

RELAY_FAILING_SECONDS = 10.0
"""How long the relay may fail without one successful pass before the service is not ready."""
OUTBOX_STALLED_SECONDS = 60.0
"""How long the outbox's lowest unpublished event may stay unpublished before the service is not ready:
past the 30 s after which PostgreSQL ends a frozen instance's transaction holding the outbox
(deploy/postgresql/roles.sql), releasing it to another instance's relay."""

CLUSTER_REFUSALS = (AskError, ClusterError, TryAgainError, ClusterCrossSlotError)
"""What a Redis Cluster answers a client that does not speak cluster (MOVED and ASK are AskErrors)."""

SCHEMA_BEHIND = "schema.behind"
STORE_UNREACHABLE = "store.unreachable"
STORE_READ_ONLY = "store.read_only"
REDIS_UNSAFE = "redis.unsafe"
REDIS_UNREACHABLE = "redis.unreachable"
REDIS_CLUSTER = "redis.cluster"
RELAY_FAILING = "relay.failing"
OUTBOX_STALLED = "outbox.stalled"


Problem = tuple[str, str]
"""A reason the service is not ready: a stable code and what it means, in Chinese."""


async def readiness(
    store: EventStore,
    service: str,
    redis: Redis,
    streams: Sequence[str],
    relay: OutboxRelay | None,
    blocked_by: str | None,
) -> list[Problem]:
    """Why the service is not ready, if it is not: its store unreachable, behind the code or read-only, Redis
    unsafe, unreachable or refusing its ``streams`` (a cluster's MOVED, CLUSTERDOWN), or its relay failing for
    a while."""
    problems = []
    try:
        pending = await asyncio.to_thread(store.schema_pending, service)
        read_only = not pending and await asyncio.to_thread(store.read_only)
    except SQLAlchemyError as error:  # down, restarting, out of reach: commands get 503 meanwhile
        cause = getattr(error, "orig", None) or error
        problems.append(
            (STORE_UNREACHABLE, f"无法连接数据库（{_named(cause)}）：暂不受理命令，恢复后自动继续")
        )
    else:
        if pending:
            problems.append((SCHEMA_BEHIND, f"数据库结构落后于代码，尚未执行的迁移：{'、'.join(pending)}"))
        elif read_only:
            problems.append(
                (STORE_READ_ONLY, "数据库只读（备库，或设置了只读）：暂不受理命令，恢复可写后自动继续")
            )
    if blocked_by is not None:
        problems.append((REDIS_UNSAFE, f"Redis 的设置不安全，暂停发布与消费：{blocked_by}"))
    if (found := await redis_problem(redis, streams)) is not None:
        problems.append(found)
    if relay is not None and (found := relay_problem(relay.health)) is not None:
        problems.append(found)
    reachable = not any(code == STORE_UNREACHABLE for code, _reason in problems)
    if relay is not None and reachable and (found := await outbox_problem(store, relay.health)) is not None:
        problems.append(found)
    return problems


async def redis_problem(redis: Redis, keys: Sequence[str]) -> Problem | None:
    """(code, reason) when Redis cannot serve the service's ``keys``; None when it does."""
    try:
        await redis.ping()
        for key in keys:  # XRANGE: every agency's Redis user may run it on its streams (deploy/redis)
            await redis.xrange(key, min="-", max="-", count=1)
    except CLUSTER_REFUSALS as error:
        return REDIS_CLUSTER, f"Redis 集群不为本服务提供数据（{_named(error)}）：请检查集群状态与连接配置"
    except ResponseError as error:
        return REDIS_UNREACHABLE, f"Redis 拒绝了请求（{_named(error)}）"
    except (RedisError, OSError) as error:
        return REDIS_UNREACHABLE, f"无法连接 Redis（{_named(error)}）：事件暂存发件箱，恢复后发布"
    return None


def _named(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def relay_problem(health: RelayHealth, bound_seconds: float = RELAY_FAILING_SECONDS) -> Problem | None:
    """(code, reason) when the relay has failed for longer than ``bound_seconds`` without publishing."""
    failing = health.failing_for()
    if failing <= bound_seconds:
        return None
    return RELAY_FAILING, f"事件发布已连续失败 {failing:.0f} 秒（{health.last_error}）"


async def outbox_problem(
    store: EventStore, health: RelayHealth, bound_seconds: float | None = None
) -> Problem | None:
    """(code, reason) when the outbox's lowest unpublished event has not moved for ``bound_seconds``
    (``OUTBOX_STALLED_SECONDS``): nobody publishes, e.g. another instance froze holding the outbox, while
    this instance's passes, finding it held, claim nothing and count as successes."""
    bound = OUTBOX_STALLED_SECONDS if bound_seconds is None else bound_seconds
    try:
        position = await asyncio.to_thread(_lowest_unpublished, store)
    except SQLAlchemyError:  # a store not migrated yet: said by schema.behind
        return None
    waiting = health.unpublished_for(position)
    if waiting <= bound:
        return None
    return (
        OUTBOX_STALLED,
        f"发件箱最早的未发布事件已 {waiting:.0f} 秒未发布：本实例无法认领发件箱"
        f"（另一实例持有它后停止响应？）或发布停滞；命令照常受理，恢复后发布",
    )


def _lowest_unpublished(store: EventStore) -> int | None:
    query = select(func.min(outbox_table.c.position)).where(outbox_table.c.published_at.is_(None))
    with store.reading() as unit:
        position = unit.session.scalar(query)
    return None if position is None else int(position)


async def consumer_lag(redis: Redis, streams: Sequence[str], group: str) -> dict[str, int]:
    """Entries of each stream not yet delivered to ``group`` (Redis 7's ``lag``); a stream whose lag
    Redis cannot tell (trimmed past the group, no group yet) is left out."""
    lags: dict[str, int] = {}
    for stream in streams:
        try:
            groups = await redis.xinfo_groups(stream)
        except ResponseError:  # no such stream yet
            continue
        for info in groups:
            if as_text(info["name"]) == group and info.get("lag") is not None:
                lags[stream] = int(info["lag"])
    return lags
