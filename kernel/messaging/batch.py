"""A batch of stream entries applied in one transaction: one dedupe read, one version read, one commit.

The consumer reads up to ``max_records`` entries at a time (FastStream ``StreamSub(batch=True)``) and
hands the decoded ones here. :func:`receive_batch` first checks what needs no store (payload,
signature, freshness), outside the transaction, so the write lock is held only for the store's work;
then, in the transaction, it decides every event, reading what it needs once for the whole batch
(which event ids the inbox holds, with their envelopes; the versions seen of the batch's aggregates,
from the inbox's indexed ``version`` column; which of its aggregates have events parked), then applies
the decisions in the same transaction: the inbox rows of the events to apply in one statement (in the
batch's order), then each one's handler, and the parked rows of early ones. A handler therefore finds
the whole batch archived, its later events included (one by one, the inbox holds the events up to the
one handled). An event decided after an earlier one of the same batch sees it (a duplicate within the
batch, version n+1 after version n). After the commit, only the applied aggregates that have events
parked are drained: an event parked elsewhere (its predecessor dead-lettered, say) costs other batches
nothing.

Any event that cannot be applied raises, and the whole transaction rolls back: the consumer then
handles the batch's entries one by one on the ordinary path (``EventConsumer.handle_entry``), so the
others still apply and only the bad one is dead-lettered or left pending. The decisions are taken
before any handler runs, so a refused envelope (conflict, forged signature, recorded in the future)
costs no handler's work; only a handler's own refusal rolls back effects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, EventPayload
from sqlalchemy import Connection, Dialect, bindparam, select
from sqlalchemy.orm import Session

from kernel.collector import without_cycle_collection
from kernel.faults import fault_point
from kernel.messaging import ordering
from kernel.messaging.dead_letter_reasons import reason_of
from kernel.messaging.dead_letters import as_text, fields_as_text, retried_for_others
from kernel.messaging.freshness import require_recorded_in_the_past
from kernel.messaging.infrastructure import is_infrastructure_failure
from kernel.messaging.outcomes import CANNOT_APPLY, EventConflict, Receipt, describe
from kernel.store.store import UnitOfWork, inbox_table
from kernel.store.tables import driver_conversion, inbox_row, record_all_received

if TYPE_CHECKING:
    from kernel.messaging.consumer import EventConsumer, EventHandler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One decoded stream entry of a batch."""

    entry_id: str
    wire: Mapping[Any, Any]
    """The entry's fields as Redis handed them over (bytes)."""
    envelope: EventEnvelope
    event_id: str
    """The envelope's event id as text (the inbox's and the parked table's key)."""

    @cached_property
    def fields(self) -> dict[str, str]:
        """The entry's fields as text: only an entry parked or handled one by one needs them."""
        return fields_as_text(self.wire)


@dataclass
class Known:
    """What the store held when the batch began, updated as the batch's events are decided."""

    received: dict[str, EventEnvelope | str]
    """Event id -> the envelope received (inbox rows as their JSON text, parsed only when needed)."""
    versions: dict[str, set[int]]
    parked: dict[str, set[str]]
    """The batch's aggregates that have events parked, with those events' ids (parked by this batch too)."""


@dataclass(frozen=True)
class Check:
    """What a delivery is, found without the store: its payload, its handler, and why it cannot be
    applied if it is not a duplicate (a forged or unsigned envelope, one recorded in the future)."""

    payload: EventPayload
    handler: EventHandler | None
    refusal: Exception | None = None


@dataclass
class Decision:
    delivery: Delivery
    receipt: Receipt
    payload: EventPayload | None = None
    handler: EventHandler | None = None


@dataclass
class Outcome:
    """What became of a batch: a receipt per delivery, in order."""

    receipts: list[Receipt] = field(default_factory=list)
    to_drain: list[str] = field(default_factory=list)
    """The aggregates the batch applied events of that have events parked: their successors may be next."""


async def handle_batch(
    consumer: EventConsumer, redis: Redis, stream: str, entries: Sequence[tuple[Any, Mapping[Any, Any]]]
) -> list[str]:
    """Handle one read of first deliveries; returns the entry ids that may be acknowledged."""
    done: list[str] = []
    deliveries: list[Delivery] = []
    for raw_id, fields in entries:
        entry_id = as_text(raw_id)
        if retried_for_others(fields, consumer.group) and await consumer.passes_by(stream, fields):
            done.append(entry_id)  # another group's dead letter published again (rehab dlq retry)
            continue
        try:
            envelope = EventEnvelope.from_wire(fields)  # decodes the bytes itself, once
            deliveries.append(Delivery(entry_id, fields, envelope, str(envelope.event_id)))
        except CANNOT_APPLY as error:  # undecodable: dead-lettered at once, the batch goes on
            text = fields_as_text(fields)
            await consumer.dead_letter(redis, stream, entry_id, text, reason_of(error), 1)
            done.append(entry_id)
    if not deliveries:
        return done
    try:
        outcome = await asyncio.to_thread(receive_batch, consumer, deliveries, stream)
    except Exception as error:
        return done + await _one_by_one(consumer, redis, stream, deliveries, error)
    return done + await _settle(consumer, redis, stream, deliveries, outcome)


async def _settle(
    consumer: EventConsumer, redis: Redis, stream: str, deliveries: list[Delivery], outcome: Outcome
) -> list[str]:
    for delivery, receipt in zip(deliveries, outcome.receipts, strict=True):
        consumer.infrastructure.settled(stream, delivery.entry_id, succeeded=True)
        envelope = delivery.envelope
        if receipt is Receipt.PARKED:
            consumer.stats.parked += 1
            log.info(
                "parked %s v%d of %s: its predecessor is not applied yet",
                envelope.stream_id,
                envelope.version,
                stream,
            )
        elif receipt is Receipt.APPLIED:
            consumer.stats.applied += 1
        else:
            consumer.stats.duplicates += 1
    for stream_id in outcome.to_drain:
        await consumer.drain_safely(redis, stream, stream_id)
    return [delivery.entry_id for delivery in deliveries]


async def _one_by_one(
    consumer: EventConsumer, redis: Redis, stream: str, deliveries: list[Delivery], error: Exception
) -> list[str]:
    """After a failed batch: a failing store leaves every entry pending (one back-off, no budget spent);
    anything else sends each entry down the one-by-one path, so only the bad one is set aside."""
    if is_infrastructure_failure(error):
        wait = consumer.infrastructure.failed_together(stream, [d.entry_id for d in deliveries])
        consumer.stats.infrastructure_failures += len(deliveries)
        log.warning(
            "%d entries of %s not applied: the infrastructure failed (%s); left pending without "
            "spending their delivery budget, retrying in %.1fs",
            len(deliveries),
            stream,
            describe(error),
            wait,
        )
        await asyncio.sleep(wait)
        return []
    log.info(
        "a batch of %d entries of %s failed (%s); applying them one by one",
        len(deliveries),
        stream,
        describe(error),
    )
    done = []
    for delivery in deliveries:
        if await consumer.handle_entry(redis, stream, delivery.entry_id, delivery.fields):
            done.append(delivery.entry_id)
    return done


def receive_batch(consumer: EventConsumer, deliveries: Sequence[Delivery], stream: str) -> Outcome:
    """Decide and apply every delivery in one transaction; raises (and records nothing) if one cannot be.

    What needs no store (payload, signature, freshness) is checked first, outside the transaction: the
    write lock is then held only for the store's work, and another subscriber's checks run while this
    batch's commit waits for the disk.
    """
    with without_cycle_collection():  # its objects are freed by reference counting, or live on
        checks = _checked(consumer, deliveries, stream)
        with consumer.store.transaction() as unit:
            known = _known(unit.session, stream, deliveries)
            decisions = [
                _decide(known, delivery, check) for delivery, check in zip(deliveries, checks, strict=True)
            ]
            _record_applied(unit, decisions, stream)
            for decision in decisions:
                _carry_out(unit, known, decision, stream)
    applied = [
        decision.delivery.envelope.stream_id for decision in decisions if decision.receipt is Receipt.APPLIED
    ]
    for _ in applied:
        fault_point("consumer.after_commit")
    to_drain = [stream_id for stream_id in dict.fromkeys(applied) if known.parked.get(stream_id)]
    return Outcome([decision.receipt for decision in decisions], to_drain)


def _checked(consumer: EventConsumer, deliveries: Sequence[Delivery], stream: str) -> list[Check]:
    if consumer.keyring is not None:
        consumer.keyring.refresh()  # keys issued, rotated or revoked: looked at once per batch
    now = datetime.now(UTC)  # the batch's checks take milliseconds: one clock reading for all
    return [_check(consumer, delivery.envelope, stream, now) for delivery in deliveries]


def _check(consumer: EventConsumer, envelope: EventEnvelope, stream: str, now: datetime) -> Check:
    payload = consumer.payload_of(envelope, stream, recheck=False)  # raises even for a duplicate
    try:
        consumer.verify(envelope, stream, recheck=False)
        require_recorded_in_the_past(envelope, now)
    except CANNOT_APPLY as refusal:  # raised only if the event is not a duplicate
        return Check(payload, consumer.handler_of(stream, envelope.event_type), refusal)
    return Check(payload, consumer.handler_of(stream, envelope.event_type))


def _known(session: Session, stream: str, deliveries: Sequence[Delivery]) -> Known:
    # The versions are read before the event ids: an event a concurrent delivery commits in between is
    # then found received (a duplicate), never only among the versions (a false conflict). One it
    # commits later is found when the batch records it (``UnitOfWork.record_received``).
    stream_ids = list(dict.fromkeys(delivery.envelope.stream_id for delivery in deliveries))
    versions = ordering.versions_seen(session, stream, stream_ids)
    event_ids = list(dict.fromkeys(delivery.event_id for delivery in deliveries))
    rows = session.execute(_RECEIVED, {"event_ids": event_ids})
    received: dict[str, EventEnvelope | str] = {event_id: text for event_id, text in rows}
    return Known(received, versions, ordering.parked_of(session, stream, stream_ids))


_RECEIVED = select(inbox_table.c.event_id, inbox_table.c.envelope).where(
    inbox_table.c.event_id.in_(bindparam("event_ids", expanding=True))
)
"""The batch's events the inbox holds already, with their envelopes: built once, its ids bound per batch."""


def _decide(known: Known, delivery: Delivery, check: Check) -> Decision:
    envelope = delivery.envelope
    event_id = delivery.event_id
    before = known.received.get(event_id)
    if before is not None:
        _require_same(before, envelope)
        return Decision(delivery, Receipt.DUPLICATE)
    if check.refusal is not None:
        raise check.refusal
    seen = known.versions.setdefault(envelope.stream_id, set())
    if envelope.version in seen:
        raise EventConflict(
            f"{envelope.stream_id} version {envelope.version} was already applied "
            f"from another event than {envelope.event_id}"
        )
    if envelope.version > 1 and envelope.version - 1 not in seen:
        # Parked, it is neither received nor seen: a second delivery of it parks it again (a no-op),
        # and its successor in the batch waits for it too.
        known.parked.setdefault(envelope.stream_id, set()).add(event_id)
        return Decision(delivery, Receipt.PARKED)
    known.received[event_id] = envelope
    seen.add(envelope.version)
    return Decision(delivery, Receipt.APPLIED, check.payload, check.handler)


def _record_applied(unit: UnitOfWork, decisions: list[Decision], stream: str) -> None:
    """The inbox rows of every event to apply, in one statement before any handler runs (in the batch's
    order, so the archive's order is the order received); an event a concurrent delivery recorded since
    the batch began is a duplicate after all, and its handler does not run."""
    applied = [decision for decision in decisions if decision.receipt is Receipt.APPLIED]
    received_at = datetime.now(UTC)
    rows = [inbox_row(decision.delivery.envelope, stream, received_at) for decision in applied]
    inserted = _record_all(unit.session.connection(), rows)
    for decision in applied:
        delivery = decision.delivery
        if delivery.event_id not in inserted:
            _require_same(_received_envelope(unit, delivery.event_id), delivery.envelope)
            decision.receipt = Receipt.DUPLICATE


def _record_all(connection: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """``record_all_received``: the event ids inserted. On SQLite straight to the driver, as one
    ``executemany`` with SQLAlchemy's own conversion of each value (its statement handling per row was
    most of the insert's time): the batch's transaction took the write lock (``BEGIN IMMEDIATE``) before
    reading which of its events the inbox held, so every row is new. Were one not, the batch raises, rolls
    back and is applied one by one."""
    if not rows or connection.dialect.name != "sqlite":
        return record_all_received(connection, rows)
    statement, converted = _sqlite_inbox_insert(connection.dialect, tuple(rows[0]))
    values = [
        tuple(row[name] if convert is None else convert(row[name]) for name, convert in converted)
        for row in rows
    ]
    inserted = connection.exec_driver_sql(statement, values).rowcount
    if inserted != len(rows):
        raise RuntimeError(f"{len(rows) - inserted} inbox rows appeared under the batch's write lock")
    return {str(row["event_id"]) for row in rows}


@lru_cache(maxsize=8)  # per dialect: an engine's, one per process (a test run's few)
def _sqlite_inbox_insert(dialect: Dialect, names: tuple[str, ...]) -> tuple[str, list[tuple[str, Any]]]:
    """The inbox's ``INSERT … ON CONFLICT DO NOTHING`` of these columns for the driver, with the conversion
    SQLAlchemy makes of each column's values."""
    converted = [(name, driver_conversion(inbox_table.c[name], dialect)) for name in names]
    columns = ", ".join(f'"{name}"' for name in names)
    placeholders = ", ".join("?" * len(names))
    statement = f"INSERT INTO inbox ({columns}) VALUES ({placeholders}) ON CONFLICT (event_id) DO NOTHING"
    return statement, converted


def _carry_out(unit: UnitOfWork, known: Known, decision: Decision, stream: str) -> None:
    delivery = decision.delivery
    envelope = delivery.envelope
    if decision.receipt is Receipt.PARKED:
        ordering.park(unit.session, envelope, stream, delivery.entry_id, delivery.fields)
        return
    parked = known.parked.get(envelope.stream_id)
    if parked and delivery.event_id in parked:  # parked by an earlier delivery, or earlier in this batch
        ordering.unpark(unit.session, delivery.event_id)
        parked.discard(delivery.event_id)
    if decision.receipt is not Receipt.APPLIED:
        return
    if decision.handler is not None and decision.payload is not None:
        decision.handler(unit, envelope, decision.payload)
    fault_point("consumer.before_commit")


def _received_envelope(unit: UnitOfWork, event_id: str) -> str:
    text = unit.session.scalar(select(inbox_table.c.envelope).where(inbox_table.c.event_id == event_id))
    return str(text)


def _require_same(before: EventEnvelope | str, envelope: EventEnvelope) -> None:
    # The signature is left out: the relay signs again when it republishes, maybe with a newer key.
    received = EventEnvelope.model_validate_json(before) if isinstance(before, str) else before
    if _unsigned(received) != _unsigned(envelope):
        raise EventConflict(f"event {envelope.event_id} was applied before with other content")


def _unsigned(envelope: EventEnvelope) -> EventEnvelope:
    return envelope.model_copy(update={"signature": None})
