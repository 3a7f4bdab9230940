"""Later deliveries: claiming entries a dead or stuck consumer left pending, and applying parked events.

Redis keeps an entry pending in the group until someone acknowledges it; nothing re-delivers it
by itself. :func:`reclaim_once` takes over (XAUTOCLAIM) every entry of the service's group idle
longer than the claim time, whoever holds it, and handles it on the same path as a first
delivery, with the delivery count Redis keeps for it (so a poison entry is dead-lettered after
``max_deliveries``; deliveries that failed on the infrastructure are not counted, and a pass stops at
the first such failure, the loop backing off). Entries XAUTOCLAIM reports deleted (trimmed before
anyone processed them) are logged at ERROR and counted, never silently dropped.

A read Redis answered while the consumer's process could not take the reply (stalled past its socket
timeout: FastStream logs "Message fetch error") leaves its entries pending to this very consumer, no handler
having seen them. :func:`recover_lost_reads` handles those sooner than the claim time: this consumer's own
entries pending longer than ``LOST_READ_SECONDS`` that no handler holds (``EventConsumer.in_hand``) nor
left pending on purpose after a failure (``EventConsumer.left_pending``, which waits for the claim time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from rehab_contracts import EventEnvelope

from kernel.messaging import ordering
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.dead_letter_reasons import reason_of
from kernel.messaging.dead_letters import as_text
from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.messaging.outcomes import CANNOT_APPLY, Receipt, describe

if TYPE_CHECKING:
    from kernel.messaging.consumer import EventConsumer

log = logging.getLogger(__name__)

LOST_READ_SECONDS = 10.0
"""How long an entry of this consumer's own that no handler holds stays pending before it counts as a lost
read: longer than the socket timeout (5 s) after which FastStream gives up on a reply."""


async def reclaim_once(
    consumer: EventConsumer, redis: Redis, min_idle_seconds: float | None = None, batch: int = 100
) -> int:
    """Claim and handle every entry of the group idle longer than ``min_idle_seconds``; how many."""
    idle = consumer.claim_idle_seconds if min_idle_seconds is None else min_idle_seconds
    handled = 0
    for subscription in consumer.subscriptions:
        handled += await _reclaim_stream(consumer, redis, subscription.stream, int(idle * 1000), batch)
    return handled


async def _reclaim_stream(
    consumer: EventConsumer, redis: Redis, stream: str, idle_ms: int, batch: int
) -> int:
    handled = 0
    start = "0-0"
    while True:
        raise_if_cancelled()
        reply = await redis.xautoclaim(
            stream, consumer.group, consumer.name, idle_ms, start_id=start, count=batch
        )
        claimed = [(as_text(entry_id), fields) for entry_id, fields in reply[1] if entry_id is not None]
        deleted = [as_text(entry_id) for entry_id in (reply[2] if len(reply) > 2 else [])]
        deleted += ["(id not reported)"] * (len(reply[1]) - len(claimed))  # Redis 6.2 reports nil entries
        _count_lost(consumer, stream, deleted)
        for entry_id, fields in claimed:
            deliveries = await _deliveries(redis, stream, consumer.group, entry_id)
            consumer.stats.reclaimed += 1
            if await consumer.handle_entry(redis, stream, entry_id, fields, deliveries):
                await redis.xack(stream, consumer.group, entry_id)
                consumer.left_pending.get(stream, set()).discard(entry_id)
            handled += 1
            if consumer.backoff.failures:
                return handled  # the store is failing: the rest of this pass would fail too
        start = as_text(reply[0])
        if start == "0-0":
            return handled


def _count_lost(consumer: EventConsumer, stream: str, entry_ids: list[str]) -> None:
    if entry_ids:
        consumer.stats.lost_before_processing += len(entry_ids)
        log.error(
            "%d pending entries of %s were deleted from the stream before group %s processed them: %s",
            len(entry_ids),
            stream,
            consumer.group,
            ", ".join(entry_ids),
        )


async def recover_lost_reads(consumer: EventConsumer, redis: Redis, idle_seconds: float | None = None) -> int:
    """Handle this consumer's own pending entries that no handler holds or left pending (lost reads)."""
    idle_ms = int((LOST_READ_SECONDS if idle_seconds is None else idle_seconds) * 1000)
    handled = 0
    for subscription in consumer.subscriptions:
        stream = subscription.stream
        pending = await redis.xpending_range(
            stream, consumer.group, min="-", max="+", count=500, consumername=consumer.name, idle=idle_ms
        )
        known = consumer.in_hand.get(stream, set()) | consumer.left_pending.get(stream, set())
        lost = {as_text(entry["message_id"]): int(entry["times_delivered"]) for entry in pending}
        lost = {entry_id: times for entry_id, times in lost.items() if entry_id not in known}
        if not lost:
            continue
        log.warning(
            "%d entries of %s were read but never handled (a lost reply): handling them", len(lost), stream
        )
        reply = await redis.xclaim(stream, consumer.group, consumer.name, idle_ms, list(lost))
        for raw_id, fields in cast("list[tuple[Any, Mapping[Any, Any]]]", reply):
            entry_id = as_text(raw_id)
            if entry_id in consumer.in_hand.get(stream, set()):
                continue  # a handler took it meanwhile
            if await consumer.handle_entry(redis, stream, entry_id, fields, lost[entry_id]):
                await redis.xack(stream, consumer.group, entry_id)
            else:
                consumer.left_pending.setdefault(stream, set()).add(entry_id)
            handled += 1
            if consumer.backoff.failures:
                return handled
    return handled


async def _deliveries(redis: Redis, stream: str, group: str, entry_id: str) -> int:
    pending = await redis.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return int(pending[0]["times_delivered"]) if pending else 1


async def reclaim_forever(
    consumer: EventConsumer,
    redis: Redis,
    every_seconds: float | None = None,
    min_idle_seconds: float | None = None,
) -> None:
    """Reclaim idle entries, apply parked events whose turn came and, every ``reconcile_seconds``,
    handle what another client took from the group, until cancelled."""
    pause = every_seconds if every_seconds is not None else max(1.0, consumer.claim_idle_seconds / 4)
    next_reconcile = 0.0
    while True:
        raise_if_cancelled()
        if consumer.backoff.failures:  # the store was failing: wait before trying it again
            await asyncio.sleep(consumer.backoff.seconds)
        try:
            await reclaim_once(consumer, redis, min_idle_seconds)
            await recover_lost_reads(consumer, redis)
            await drain_all_parked(consumer, redis)
            if asyncio.get_running_loop().time() >= next_reconcile:
                next_reconcile = asyncio.get_running_loop().time() + consumer.reconcile_seconds
                await consumer.reconcile_once(redis)
        except (RedisError, OSError) as error:
            log.debug("cannot reclaim yet: %s", error)  # NOGROUP included: keep_groups re-creates it
        except Exception as error:
            log.warning("reclaim pass failed: %s", error, exc_info=error)
        raise_if_cancelled()
        await asyncio.sleep(pause)


# -- parked events -------------------------------------------------------------------------------
async def drain_parked(consumer: EventConsumer, redis: Redis, source_stream: str, stream_id: str) -> int:
    """Apply the parked events of one aggregate that are now next in line; returns how many."""
    applied = 0
    while True:
        parked = await asyncio.to_thread(
            _in_transaction, consumer, ordering.first_parked, source_stream, stream_id
        )
        if parked is None:
            return applied
        outcome = await _apply_parked(consumer, redis, parked)
        if outcome is Receipt.PARKED:
            return applied
        if outcome is Receipt.APPLIED:
            applied += 1
            consumer.stats.unparked += 1


async def drain_all_parked(consumer: EventConsumer, redis: Redis) -> int:
    """Apply every parked event whose predecessor has been applied meanwhile (by any process)."""
    aggregates = await asyncio.to_thread(_in_transaction, consumer, ordering.parked_aggregates)
    applied = 0
    for source_stream, stream_id in aggregates:
        applied += await drain_parked(consumer, redis, source_stream, stream_id)
    return applied


async def _apply_parked(
    consumer: EventConsumer, redis: Redis, parked: ordering.ParkedEvent
) -> Receipt | None:
    """Receipt of the parked event, or None when it was dead-lettered (and removed)."""
    try:
        envelope = EventEnvelope.from_wire(parked.fields)
        return await asyncio.to_thread(
            consumer.receive, envelope, parked.source_stream, parked.source_entry_id
        )
    except CANNOT_APPLY as error:
        reason = reason_of(error)
    except Exception as error:
        if is_infrastructure_failure(error):
            consumer.stats.infrastructure_failures += 1
            log.warning("parked event %s waits: the infrastructure failed (%s)", parked.event_id, error)
            return Receipt.PARKED  # no attempt counted: the event is not at fault
        attempts = await asyncio.to_thread(
            _in_transaction, consumer, ordering.record_attempt, parked.event_id, describe(error)
        )
        if attempts < consumer.max_deliveries:
            log.warning("parked event %s failed (attempt %d): %s", parked.event_id, attempts, error)
            return Receipt.PARKED  # stop draining this aggregate; the next pass retries
        reason = reason_of(error, attempts=attempts, after_parking=True)
    await consumer.dead_letter(
        redis, parked.source_stream, parked.source_entry_id, parked.fields, reason, parked.attempts + 1
    )
    await asyncio.to_thread(_in_transaction, consumer, ordering.unpark, parked.event_id)
    return None


def _in_transaction(consumer: EventConsumer, query: Any, *args: Any) -> Any:
    with consumer.store.transaction() as unit:
        return query(unit.session, *args)
