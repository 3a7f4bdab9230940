"""Reconciliation: apply what the consumer group passed without this service receiving it.

Redis ACLs decide which *keys* a user may touch, not which consumer group: any user allowed to read
a stream with XREADGROUP and XACK may do so in another agency's group (issue 14: settlement's user
read and acknowledged an entry in assessment's group, and it never reached assessment). Nothing in
Redis can prevent that, so each consumer detects and repairs it.

A group's ``last-delivered-id`` says how far the group has passed along the stream. Every entry up to
it was delivered to *someone* in the group; for this service it must now be in its inbox (applied),
parked, dead-lettered by it, still pending in its group (reclaim's to deliver again), or a copy `rehab dlq
retry` published for other groups (``dead_letters.RETRY_FOR``) whose signature verifies. An entry that
is none of these was taken by someone else: it is handled now on the ordinary path (applied once,
parked, or dead-lettered with its reason) and counted as ``recovered``.

Each check reads only the entries after a checkpoint kept in the service's own store (table
``reconciled``), so it costs O(entries passed since the last check), and the checkpoint never passes
an entry still pending in the group (which could still be acknowledged by someone else).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import Column, Engine, MetaData, String, Table, delete, insert, select

from kernel.messaging import ordering
from kernel.messaging.dead_letters import DeadLetter, as_text, dead_letter_stream

if TYPE_CHECKING:
    from kernel.messaging.consumer import EventConsumer

log = logging.getLogger(__name__)

EntryKey = tuple[int, int]
PAGE = 500
MOST_PER_CHECK = 5000
"""Entries one check reads at most: the first check of a long stream (no checkpoint yet) is spread
over several, so it never holds up the reclaim loop for long."""

reconciliation_metadata = MetaData()

reconciled_table = Table(
    "reconciled",
    reconciliation_metadata,
    Column("source_stream", String(100), primary_key=True),
    Column("entry_id", String(40), nullable=False, comment="Every entry up to it was accounted for."),
)


def create_reconciliation(engine: Engine) -> None:
    """Create the checkpoint table if it is missing (the consumer does it when it is built)."""
    reconciliation_metadata.create_all(engine)


def checkpoint(consumer: EventConsumer, stream: str) -> str:
    """The last entry of ``stream`` known to be accounted for; ``0-0`` before the first check."""
    with consumer.store.reading() as unit:
        found = unit.session.scalar(
            select(reconciled_table.c.entry_id).where(reconciled_table.c.source_stream == stream)
        )
    return str(found) if found else "0-0"


def _keep_checkpoint(consumer: EventConsumer, stream: str, entry_id: str) -> None:
    with consumer.store.transaction() as unit:
        unit.session.execute(delete(reconciled_table).where(reconciled_table.c.source_stream == stream))
        unit.session.execute(insert(reconciled_table).values(source_stream=stream, entry_id=entry_id))


async def reconcile_once(consumer: EventConsumer, redis: Redis) -> int:
    """Check each consumed stream once; returns how many entries were recovered."""
    recovered = 0
    for subscription in consumer.subscriptions:
        recovered += await _reconcile_stream(consumer, redis, subscription.stream)
    return recovered


async def _reconcile_stream(consumer: EventConsumer, redis: Redis, stream: str) -> int:
    passed = await _group_passed(redis, stream, consumer.group)
    if passed is None:
        return 0
    start = await asyncio.to_thread(checkpoint, consumer, stream)
    if key(start) >= passed:
        return 0
    recovered = 0
    letters: set[str] | None = None
    last = start
    for _ in range(MOST_PER_CHECK // PAGE):
        page = await redis.xrange(stream, min="(" + last, max=_text(passed), count=PAGE) or []
        read = [(as_text(raw_id), _decoded(raw_fields or {})) for raw_id, raw_fields in page]
        # One look per page (inbox and parking, 500 ids a query), not a thread hand-off per entry.
        found = await asyncio.to_thread(_accounted_for, consumer, [f.get("event_id", "") for _, f in read])
        for entry_id, fields in read:
            consumer.stats.reconciled_entries += 1
            event_id = fields.get("event_id", "")
            status = "received" if event_id and event_id in found else "unknown"
            if status == "unknown" and await consumer.passes_by(stream, fields):
                status = "another group's retry"  # passed by on purpose (rehab dlq retry)
            if status == "unknown":
                letters = letters if letters is not None else await _dead_lettered(consumer, redis, stream)
                status = "dead-lettered" if entry_id in letters or event_id in letters else "taken"
            if status == "taken":
                if not await _recover(consumer, redis, stream, entry_id, fields):
                    return await _keep(consumer, stream, start, last, recovered)
                recovered += 1
                found.add(event_id)  # the same event again later in the page is a duplicate now
            last = entry_id
        if len(page) < PAGE:
            break
    return await _keep(consumer, stream, start, last, recovered)


async def _keep(consumer: EventConsumer, stream: str, start: str, last: str, recovered: int) -> int:
    if key(last) > key(start):
        await asyncio.to_thread(_keep_checkpoint, consumer, stream, last)
    return recovered


async def _group_passed(redis: Redis, stream: str, group: str) -> EntryKey | None:
    """How far the group has gone, capped before its oldest pending entry; None without the group."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:
        return None  # no stream yet: keep_groups creates it
    for info in groups:
        if as_text(info["name"]) != group:
            continue
        passed = key(as_text(info["last-delivered-id"]))
        lowest = (await redis.xpending(stream, group))["min"] if int(info["pending"]) else None
        if lowest is not None:  # None: acknowledged since XINFO GROUPS counted them
            passed = min(passed, _before(key(as_text(lowest))))
        return passed
    return None


def _accounted_for(consumer: EventConsumer, event_ids: list[str]) -> set[str]:
    """Which of these events are received (in the inbox) or parked; the others are dead-lettered, or taken
    by someone else."""
    with consumer.store.reading() as unit:
        return ordering.accounted_for(unit.session, [event_id for event_id in event_ids if event_id])


async def _dead_lettered(consumer: EventConsumer, redis: Redis, stream: str) -> set[str]:
    """Entry ids of ``stream`` this service dead-lettered, and their event ids (read once per check, only
    when needed). The event ids account for an entry `rehab dlq retry` published again: its dead letter
    was deleted with the retry, and the copy, dead-lettered again, stands for it."""
    ids: set[str] = set()
    start = "-"
    while True:
        page = await redis.xrange(dead_letter_stream(consumer.service), min=start, count=PAGE) or []
        for letter in (DeadLetter.from_entry(entry_id, fields) for entry_id, fields in page):
            if letter.source_stream == stream:
                ids.add(letter.source_entry_id)
                if letter.event_id:
                    ids.add(letter.event_id)
        if len(page) < PAGE:
            return ids
        start = "(" + as_text(page[-1][0])


async def _recover(
    consumer: EventConsumer, redis: Redis, stream: str, entry_id: str, fields: dict[str, str]
) -> bool:
    """Handle an entry someone else took from the group; False when it must be tried again later."""
    event_id = fields.get("event_id", "")
    log.warning(
        "entry %s of %s (event %s) passed group %s without reaching %s: another client read and "
        "acknowledged it in this group; handling it now",
        entry_id,
        stream,
        event_id or "?",
        consumer.group,
        consumer.service,
    )
    if not await consumer.handle_entry(redis, stream, entry_id, fields):
        return False
    consumer.stats.recovered += 1
    return True


def _decoded(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {as_text(name): as_text(value) for name, value in fields.items()}


def key(entry_id: str) -> EntryKey:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds or 0), int(sequence or 0)


def _before(entry: EntryKey) -> EntryKey:
    """The greatest entry id below ``entry`` (sequence numbers are 64-bit)."""
    return (entry[0], entry[1] - 1) if entry[1] else (entry[0] - 1, 2**64 - 1)


def _text(entry: EntryKey) -> str:
    return f"{entry[0]}-{entry[1]}"
