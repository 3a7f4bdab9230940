"""What a service says of itself: ``/health``'s readiness and parts, and ``/metrics``' snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import SQLAlchemyError

from kernel.messaging.dead_letters import dead_letter_stream
from kernel.messaging.health import Problem, consumer_lag
from kernel.messaging.health import readiness as health_problems
from kernel.messaging.leadership import Leadership
from kernel.store.store import EventStore
from kernel.web.health import bound_problems
from kernel.web.instrumentation import ServiceCounter, ServiceMetrics
from kernel.web.metrics import Snapshot

if TYPE_CHECKING:
    from kernel.runtime import ServiceRuntime


log = logging.getLogger(__name__)


def stored_health(runtime: ServiceRuntime) -> dict[str, object]:
    """What ``/health`` says about the events stored, the consumer and, for a single writer, this instance's
    role. While the store cannot be read (``store.unreachable`` among the problems) ``events`` is None and
    the consumer shows its counters only."""
    try:
        events: dict[str, int] | None = runtime.store.counts()
    except SQLAlchemyError:
        events = None
    return {"events": events, **_parts_health(runtime)}


def _parts_health(runtime: ServiceRuntime) -> dict[str, object]:
    """What ``/health`` says about the consumer and, for a single writer, this instance's role."""
    parts: dict[str, object] = {}
    if runtime.consumer is not None:
        try:
            parts["consumer"] = runtime.consumer.health()
        except SQLAlchemyError:  # the events parked now are counted in the store
            parts["consumer"] = asdict(runtime.consumer.stats)
    if runtime.single_writer is not None:
        parts["leadership"] = runtime.single_writer.leadership.health()
    return parts


def count_leadership(metrics: ServiceMetrics, leadership: Leadership) -> None:
    """``rehab_leader{service,scope}`` on ``/metrics``: 1 while this instance leads, 0 while it stands by."""
    gauge = Gauge(
        "rehab_leader",
        "1 while this instance is the elected single writer (it consumes), 0 while it stands by.",
        ["service", "scope"],
        registry=metrics.registry,
    )
    gauge.labels(metrics.service, leadership.scope).set_function(
        lambda: 1.0 if leadership.session_pid is not None else 0.0
    )


async def readiness(runtime: ServiceRuntime) -> list[Problem]:
    """Why the service is not ready, if it is not (``kernel.messaging.health.readiness``)."""
    service, blocked_by = runtime.settings.service, runtime.blocked_by
    streams = _streams_of(runtime)
    problems = await health_problems(
        runtime.store, service, runtime.redis, streams, runtime.relay, blocked_by
    )
    if runtime.consumer is None or problems:
        return problems
    settings = runtime.settings
    lag, dead_letters = await consumer_backlog(runtime)
    return bound_problems(lag, dead_letters, settings.ready_max_consumer_lag, settings.ready_max_dead_letters)


async def consumer_backlog(runtime: ServiceRuntime) -> tuple[dict[str, int], int | None]:
    """Each consumed stream's group lag, and the entries on the dead-letter stream (None: Redis failed)."""
    if runtime.consumer is None:
        return {}, None
    with contextlib.suppress(RedisError, OSError):
        streams = _streams_of(runtime, published=False)
        lag = await consumer_lag(runtime.redis, streams, runtime.consumer.group)
        return lag, await _dead_letters_waiting(runtime.redis, dead_letter_stream(runtime.settings.service))
    return {}, None


async def _dead_letters_waiting(redis: Redis, stream: str) -> int:
    # XINFO STREAM, not XLEN: the agency's Redis user may run the former on its dead letters (deploy/redis)
    try:
        info = await redis.xinfo_stream(stream)
    except ResponseError as error:
        if "no such key" in str(error).lower():
            return 0
        raise
    return int(info["length"])


UNREAD = math.nan
"""A count the store could not give: Prometheus's "no value" (an alert such as ``rehab_outbox_backlog > 1000``
is then neither true nor a false 0)."""


async def snapshot(runtime: ServiceRuntime, counters: Sequence[ServiceCounter] = ()) -> Snapshot:
    """What ``/metrics`` reports now. Answered whatever fails: while the database is down (or not migrated)
    the scrape says ``rehab_ready 0``, the HTTP counters and what Redis tells, its stored counts ``NaN``."""
    counts = await asyncio.to_thread(_stored_counts, runtime.store)
    problems = await readiness(runtime)
    relay, consumer = runtime.relay, runtime.consumer
    redis_answers = not any(code.startswith("redis.") for code, _reason in problems)
    lag, dead_letters = await consumer_backlog(runtime) if redis_answers else ({}, None)
    own = await asyncio.to_thread(_read_counters, runtime.store, counters)
    return Snapshot(
        service=runtime.settings.service,
        stored=counts["stored"],
        unpublished=counts["unpublished"],
        received=counts["received"],
        published={relay.stream: relay.health.published_total} if relay is not None else {},
        consumer=asdict(consumer.stats) if consumer is not None else {},
        lag=lag,
        ready=not problems,
        counters=own,
        dead_letters=dead_letters,
    )


def _stored_counts(store: EventStore) -> dict[str, Any]:
    """The store's counts (int), each ``UNREAD`` while the store cannot be read."""
    try:
        return dict(store.counts())
    except SQLAlchemyError as error:
        log.debug("/metrics without the stored counts: %s", error)
        return {"stored": UNREAD, "unpublished": UNREAD, "received": UNREAD}


def _read_counters(store: EventStore, counters: Sequence[ServiceCounter]) -> dict[str, tuple[str, int]]:
    """Each counter's value; one its store cannot read yet (tables not migrated) is left out of the scrape."""
    values = {}
    for counter in counters:
        try:
            values[counter.name] = (counter.help, counter.read(store))
        except SQLAlchemyError as error:
            log.debug("%s not counted: %s", counter.name, error)
    return values


def _streams_of(runtime: ServiceRuntime, published: bool = True) -> list[str]:
    """The streams the service publishes to (``published``) and consumes."""
    streams = [runtime.relay.stream] if published and runtime.relay is not None else []
    if runtime.consumer is not None:
        streams += [subscription.stream for subscription in runtime.consumer.subscriptions]
    return streams
