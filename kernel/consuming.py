"""When a service publishes and consumes: once Redis answers and is safe; a single writer while it leads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rehab_contracts import STREAM_OF_PRODUCER

from kernel.deployment import load_deployment
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.connection import follow_the_cluster
from kernel.messaging.durability import default_user_problems, durability_problems
from kernel.messaging.leadership import Leadership
from kernel.messaging.retention import DEFAULT_EVERY_SECONDS as TRIM_EVERY_SECONDS
from kernel.messaging.retention import retention_seconds, trim_forever

if TYPE_CHECKING:
    from kernel.runtime import ServiceRuntime, SingleWriter


log = logging.getLogger(__name__)


REDIS_LOST_SECONDS = 15.0
"""A settlement leader (any single writer) whose Redis has not answered this long gives up its lock."""


async def start_when_redis_answers(runtime: ServiceRuntime, broker: RedisBroker) -> None:
    """Publish and consume once Redis answers and keeps what it acknowledges.

    The HTTP API works meanwhile: commands are committed to the outbox and published later.
    """
    consumer = runtime.consumer
    while True:
        try:
            await runtime.redis.ping()
            if not await _redis_is_safe(runtime):
                _stand_aside(runtime)
                await asyncio.sleep(5.0)  # the operator may fix the settings; check again
                continue
            if runtime.single_writer is None:
                if consumer is not None:
                    await consumer.ensure_groups(runtime.redis)
                await broker.start()
            break
        except Exception as error:
            log.warning("%s waits for Redis: %s", runtime.settings.service, error)
            _stand_aside(runtime)
            with contextlib.suppress(Exception):
                await broker.stop()
            await asyncio.sleep(1.0)
    raise_if_cancelled()  # the app may have stopped during broker.start()
    if runtime.relay is not None:
        runtime.tasks.append(asyncio.create_task(runtime.relay.run()))
        if (keep_seconds := retention_seconds()) is not None:  # trims only behind the slowest group
            every = min(TRIM_EVERY_SECONDS, keep_seconds)
            stream = runtime.relay.stream
            groups = groups_reading(stream)
            address = runtime.settings.redis_address
            trimming = trim_forever(runtime.redis, [stream], keep_seconds, groups, every, address)
            runtime.tasks.append(asyncio.create_task(trimming))
    if runtime.single_writer is not None:
        await _consume_while_leading(runtime, broker, runtime.single_writer)
        return
    runtime.tasks.append(asyncio.create_task(_restart_stopped_subscribers(runtime, broker)))
    if consumer is not None:
        runtime.tasks.append(asyncio.create_task(consumer.reclaim_forever(runtime.redis)))
        await consumer.keep_groups(runtime.redis)


async def _consume_while_leading(runtime: ServiceRuntime, broker: RedisBroker, writer: SingleWriter) -> None:
    """Stand by until elected, consume while leading, stand by when the lock is lost; until cancelled."""
    leadership, service = writer.leadership, runtime.settings.service
    while True:
        await _stand_by(runtime, writer)
        consuming: list[asyncio.Task[None]] = []
        # The lock is checked from the election on: the checks keep its session from the server's idle
        # timeout while the take-over catches up and handles what the previous leader left pending, which
        # under a backlog takes longer than that timeout (a new leader lost its lock every ~7 s, each
        # successor claiming the same batch again). A take-over that lost the lock meanwhile is fenced.
        lock = asyncio.create_task(leadership.lost())
        try:
            await asyncio.to_thread(writer.on_elected, runtime)
            consuming = await _start_consuming(runtime, broker)
            pause = await _lead_until_lost(runtime, leadership, lock)
        except Exception as error:
            log.error("%s cannot lead: %s", service, error, exc_info=error)
            pause = leadership.retry_seconds
        finally:
            lock.cancel()
            await leadership.call(leadership.step_down)  # first: from now on its transactions are fenced
            await _stop_consuming(broker, consuming)
            writer.on_deposed(runtime)
        raise_if_cancelled()
        await asyncio.sleep(pause)


async def _lead_until_lost(
    runtime: ServiceRuntime, leadership: Leadership, lock: asyncio.Task[None]
) -> float:
    """Return when the lock is lost (``lock``, the task of ``leadership.lost()``), or when Redis has not
    answered for ``REDIS_LOST_SECONDS`` (a leader that cannot consume makes way for a standby that may);
    how long to wait before trying the lock again."""
    redis = asyncio.create_task(_redis_lost(runtime.redis, REDIS_LOST_SECONDS))
    try:
        done, _pending = await asyncio.wait({lock, redis}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lock.cancel()
        redis.cancel()
    service = runtime.settings.service
    if lock in done:
        log.error("%s lost the writer's lock: it stops consuming and stands by", service)
        return leadership.retry_seconds
    log.error("%s cannot reach Redis: it gives up the writer's lock for a standby that can", service)
    return REDIS_LOST_SECONDS / 3  # the standbys try first


async def _redis_lost(redis: Redis, seconds: float) -> None:
    """Return once Redis has not answered a PING for ``seconds``."""
    loop = asyncio.get_running_loop()
    failing_since: float | None = None
    while True:
        await asyncio.sleep(1.0)
        try:
            await asyncio.wait_for(redis.ping(), timeout=2.0)
            failing_since = None
        except (RedisError, OSError, TimeoutError):
            failing_since = failing_since if failing_since is not None else loop.time()
            if loop.time() - failing_since >= seconds:
                return


def _stand_aside(runtime: ServiceRuntime) -> None:
    """Give up the writer's lock while Redis cannot be used: a standby that can use it may lead."""
    if runtime.single_writer is not None and runtime.single_writer.leadership.session_pid is not None:
        runtime.single_writer.leadership.step_down()


async def _stand_by(runtime: ServiceRuntime, writer: SingleWriter) -> None:
    """Try the lock every ``retry_seconds``, following the leader meanwhile; return once elected."""
    leadership = writer.leadership
    while not await leadership.call(leadership.try_to_lead):
        if writer.follow is not None:
            try:
                await asyncio.to_thread(writer.follow, runtime)
            except Exception as error:
                log.warning("%s cannot follow the leader yet: %s", runtime.settings.service, error)
        await asyncio.sleep(leadership.retry_seconds)


async def _start_consuming(runtime: ServiceRuntime, broker: RedisBroker) -> list[asyncio.Task[None]]:
    """The leader's consuming: what the previous leader left pending is claimed at once, then the
    subscribers start (again) with the reclaim and group-keeping loops."""
    consumer = runtime.consumer
    if consumer is None:
        return []
    await consumer.ensure_groups(runtime.redis)
    # Only the leader consumes, so an entry pending in the group is a dead or deposed leader's: claim it now.
    await consumer.reclaim_once(runtime.redis, min_idle_seconds=0)
    if broker.running:
        for subscriber in broker.subscribers:
            if not subscriber.running:
                await subscriber.start()
    else:
        await broker.start()
    loops = [
        _restart_stopped_subscribers(runtime, broker),
        consumer.reclaim_forever(runtime.redis),
        consumer.keep_groups(runtime.redis),
    ]
    return [asyncio.create_task(loop) for loop in loops]


async def _stop_consuming(broker: RedisBroker, consuming: list[asyncio.Task[None]]) -> None:
    """Stop reading the streams at once; a handler still running is fenced from committing (ADR 0020)."""
    for task in consuming:
        task.cancel()
    running = [subscriber.stop() for subscriber in broker.subscribers if subscriber.running]
    if running:  # each waits for its handler in flight, at most FastStream's graceful timeout
        await asyncio.wait([asyncio.ensure_future(stop) for stop in running], timeout=5.0)
    if consuming:
        await asyncio.wait(consuming, timeout=5.0)


async def _restart_stopped_subscribers(runtime: ServiceRuntime, broker: RedisBroker) -> None:
    """FastStream stops a subscriber for good when its group vanished (NOGROUP, e.g. Redis lost its
    data); re-create the group and start the subscriber again, so consuming resumes without a restart."""
    while True:
        await asyncio.sleep(2.0)
        await follow_the_cluster(broker)  # a dead default node would stop XREADGROUP for good
        stopped = [subscriber for subscriber in broker.subscribers if not subscriber.running]
        if not stopped or runtime.consumer is None:
            continue
        try:
            await runtime.consumer.ensure_groups(runtime.redis)
            for subscriber in stopped:
                log.warning("%s restarts a stopped subscriber", runtime.settings.service)
                await subscriber.start()
        except (RedisError, OSError) as error:
            log.warning("%s cannot restart its subscribers yet: %s", runtime.settings.service, error)


async def _redis_is_safe(runtime: ServiceRuntime) -> bool:
    """Durable, and reached as the service's own user (outside demo mode); else blocked with the reason."""
    settings = runtime.settings
    problems = await durability_problems(runtime.redis)
    if problems and settings.allow_volatile_redis:
        log.warning(
            "Redis may lose data (%s); running anyway: allow_volatile_redis is set", "; ".join(problems)
        )
        problems = []
    problems += await default_user_problems(runtime.redis, settings.service, demo=settings.demo_mode)
    if problems:
        runtime.blocked_by = "unsafe Redis settings: " + "; ".join(problems)
        log.error("%s refuses to publish or consume: %s", runtime.settings.service, runtime.blocked_by)
        return False
    runtime.blocked_by = None
    return True


def groups_reading(stream: str) -> frozenset[str]:
    """The consumer groups that read ``stream``, whether or not they exist on Redis yet: each service the
    deployment says subscribes to the stream's producer (deploy/services.toml ``subscribes_to``, which
    tests hold equal to what each service's app subscribes to) reads it in a group named after itself
    (``EventConsumer.group``).

    The relay counts such a group from the stream's start until it has seen it, and retention trims
    nothing while one is missing: a consumer that has not started yet (settlement deployed a day after
    survey, a group lost with Redis's data) still finds every entry it must read, or has it published
    again. A group someone else creates (an integrator's) is protected once it exists.
    """
    producers = {producer for producer, produced in STREAM_OF_PRODUCER.items() if produced == stream}
    subscriptions = load_deployment().subscriptions
    return frozenset(service for service, sources in subscriptions.items() if producers & set(sources))
