"""Idempotent consumers, in version order per aggregate: effect and inbox in one transaction.

First deliveries arrive through FastStream in bounded reads (``max_records``, env
``REHAB_MAX_RECORDS``, else the service's ``batch_size``, default 100) and are applied a read at a time
in one transaction (:meth:`EventConsumer.handle_batch`, ``kernel.messaging.batch``, ADR 0014); when an
entry of a read cannot be applied, every entry of it takes the one-by-one path, as later deliveries (reclaim,
reconciliation) always do: :meth:`EventConsumer.handle_entry`. Either way each entry is:

* applied (effect and inbox row committed together) or a known duplicate -> acknowledged;
* early for its aggregate (its predecessor not applied yet) -> parked in the service's database
  and acknowledged; applied as soon as the predecessor is (see ``kernel.messaging.ordering``);
* cannot ever be applied (undecodable, breaks its contract, unknown type, future schema version,
  rejected by a handler, conflicting with what was applied, recorded in the future beyond clock skew,
  or — when the consumer has a key ring — unsigned, tampered with or not signed by its producer)
  -> dead-lettered at once, acknowledged;
* failed because the infrastructure failed (disk full, database locked or down, a network error:
  ``infrastructure.is_infrastructure_failure``) -> left pending and retried, the consumer backing off
  (``backoff_seconds`` doubling up to 30 s, reset by the next success); these deliveries spend no
  delivery budget, so a minute of full disk dead-letters nothing;
* failed for another reason (a bug) -> left pending; :meth:`reclaim_forever` claims it again after
  ``claim_idle_seconds`` and, after ``max_deliveries`` deliveries (not counting infrastructure
  failures), dead-letters it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID, uuid4

from faststream.message import StreamMessage
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from rehab_contracts import STREAM_OF_PRODUCER, EventEnvelope, EventPayload, parse_payload
from sqlalchemy import select

from kernel.config import RehabSettings
from kernel.faults import fault_point
from kernel.messaging import batch, ordering, reclaim, reconcile
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.dead_letter_reasons import DeadLetterReason, reason_of
from kernel.messaging.dead_letters import (
    as_text,
    dead_letter_stream,
    fields_as_text,
    new_dead_letter,
    retried_for_others,
)
from kernel.messaging.freshness import require_recorded_in_the_past
from kernel.messaging.infrastructure import (
    DEFAULT_BACKOFF_SECONDS,
    Backoff,
    InfrastructureFailures,
    is_infrastructure_failure,
)
from kernel.messaging.outcomes import CANNOT_APPLY, EventConflict, EventRejected, Receipt, describe
from kernel.messaging.signing import KeyRing, SignatureRejected
from kernel.store.store import EventStore, UnitOfWork, inbox_table

__all__ = [
    "EventConflict",
    "EventConsumer",
    "EventHandler",
    "EventRejected",
    "Receipt",
    "Subscription",
    "consumer_name",
    "dead_letter_stream",
]

log = logging.getLogger(__name__)

EventHandler = Callable[[UnitOfWork, EventEnvelope, EventPayload], None]
"""Applies one consumed event inside the transaction that also records it in the inbox."""

DEFAULT_MAX_DELIVERIES = 5
DEFAULT_CLAIM_IDLE_SECONDS = 30.0
DEFAULT_RECONCILE_SECONDS = 10.0
DEFAULT_MAX_RECORDS = 100
"""Entries one read takes at most, unless ``REHAB_MAX_RECORDS`` or the service's ``batch_size`` in
deploy/services.toml says otherwise: the size of a batch applied in one transaction.

Each read costs a transaction, a commit and its fsync, an XACK and FastStream's per-message layers: at
500 rather than 100 settlement spent about a quarter less CPU per event on a backlog (ADR 0022), and
deploy/services.toml gives settlement 500. A service that also takes clerks' commands keeps 100: on a
backlog a batch holds the store's write lock for its whole transaction, and 500 would hold it 0.1-0.2 s,
which a command waits out. A read stays bounded, and a consumer that keeps up reads what has arrived."""


class ConsumerSettings(RehabSettings):
    """A consumer's bounds, read when it is built; an argument given in code wins over its variable."""

    max_records: int | None = None
    """``REHAB_MAX_RECORDS``: entries one read takes at most (unset: the service's ``batch_size``, else
    :data:`DEFAULT_MAX_RECORDS`)."""
    max_deliveries: int = DEFAULT_MAX_DELIVERIES
    """``REHAB_MAX_DELIVERIES``: deliveries of one entry before it is dead-lettered."""
    claim_idle_seconds: float = DEFAULT_CLAIM_IDLE_SECONDS
    """``REHAB_CLAIM_IDLE_SECONDS``: how long an entry stays pending before another consumer claims it."""
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS
    """``REHAB_BACKOFF_SECONDS``: the first wait after Redis or the database failed."""
    reconcile_seconds: float = DEFAULT_RECONCILE_SECONDS
    """``REHAB_RECONCILE_SECONDS``: how often the consumer checks the stream for entries it missed."""


@dataclass(frozen=True)
class Subscription:
    """The producer stream a service consumes and what it does with each event type.

    Every event on the stream is archived in the inbox; types without a handler are only archived.
    """

    stream: str
    handlers: Mapping[str, EventHandler] = field(default_factory=dict)


@dataclass
class ConsumerStats:
    """Counters since the process started (for /health and `rehab verify`)."""

    applied: int = 0
    """Events applied (effect and inbox row committed)."""
    duplicates: int = 0
    """Deliveries of events already applied (redeliveries, concurrent deliveries): no effect."""
    reclaimed: int = 0
    """Entries claimed from a dead or stuck consumer and handled again."""
    lost_before_processing: int = 0
    """Pending entries XAUTOCLAIM reported deleted (trimmed) before anyone processed them."""
    dead_lettered: int = 0
    parked: int = 0
    """Early events parked (the number waiting now is ``EventConsumer.health()['parked_now']``)."""
    unparked: int = 0
    failed_deliveries: int = 0
    """Deliveries that failed for a reason other than the event itself and were left pending."""
    infrastructure_failures: int = 0
    """Deliveries that failed because the store, the disk or the network did (no budget spent)."""
    recovered: int = 0
    """Entries another client read and acknowledged in this service's group, found and handled."""
    reconciled_entries: int = 0
    """Entries the group passed that reconciliation checked against the inbox."""


def consumer_name(service: str) -> str:
    """A name unique to this process, so two replicas of one service never share pending entries."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:6]}"


class EventConsumer:
    """Turns stream entries into effects exactly once per ``event_id``, in version order per aggregate.

    ``max_deliveries`` (env ``REHAB_MAX_DELIVERIES``, default 5) bounds how often an entry that
    keeps failing is delivered before it is dead-lettered; ``claim_idle_seconds`` (env
    ``REHAB_CLAIM_IDLE_SECONDS``, default 30) is how long an entry stays pending with a dead or
    stuck consumer before :meth:`reclaim_forever` claims it. ``backoff_seconds`` (env
    ``REHAB_BACKOFF_SECONDS``, default 0.5) is the first wait after an infrastructure failure;
    ``reconcile_seconds`` (env ``REHAB_RECONCILE_SECONDS``, default 10) how often the reclaim loop
    looks for entries another client took from the group (``kernel.messaging.reconcile``). With a
    ``keyring``, an event is applied or parked only when a key of its producer signed it; without one,
    signatures are not checked.
    """

    def __init__(
        self,
        store: EventStore,
        service: str,
        subscriptions: list[Subscription],
        *,
        max_deliveries: int | None = None,
        claim_idle_seconds: float | None = None,
        keyring: KeyRing | None = None,
        backoff_seconds: float | None = None,
        reconcile_seconds: float | None = None,
        max_records: int | None = None,
    ) -> None:
        self.store = store
        settings = ConsumerSettings()
        self.max_records = max_records or settings.max_records or DEFAULT_MAX_RECORDS
        self.keyring = keyring
        self.service = service
        self.group = service
        self.name = consumer_name(service)
        self.subscriptions = subscriptions
        self.max_deliveries = max_deliveries or settings.max_deliveries
        self.claim_idle_seconds = (
            claim_idle_seconds if claim_idle_seconds is not None else settings.claim_idle_seconds
        )
        self.stats = ConsumerStats()
        self.in_hand: dict[str, set[str]] = {}
        """Per stream, the entries a subscriber's handler holds now (read, not yet acknowledged)."""
        self.left_pending: dict[str, set[str]] = {}
        """Per stream, the entries a handler left pending on purpose (failed): reclaim takes them after the
        claim time, spending their delivery budget; they are not lost reads."""
        self.infrastructure = InfrastructureFailures(
            Backoff(first=backoff_seconds if backoff_seconds is not None else settings.backoff_seconds)
        )
        self.backoff = self.infrastructure.backoff
        self.reconcile_seconds = (
            reconcile_seconds if reconcile_seconds is not None else settings.reconcile_seconds
        )
        ordering.create_parking(store.engine)
        reconcile.create_reconciliation(store.engine)

    # -- applying one event ---------------------------------------------------------------------
    def apply(self, envelope: EventEnvelope, source_stream: str) -> bool:
        """Apply one event now, whatever its version; False when it had been applied before.

        For handler tests and tools: the stream path (:meth:`receive`) also keeps version order
        and checks signatures.
        """
        payload = parse_payload(envelope)
        handler = self.handler_of(source_stream, envelope.event_type)
        with self.store.transaction() as unit:
            if not unit.record_received(envelope, source_stream):
                _require_same_as_received(unit, envelope)
                return False
            if handler is not None:
                handler(unit, envelope, payload)
        return True

    def receive(
        self,
        envelope: EventEnvelope,
        source_stream: str,
        source_entry_id: str = "",
        fields: Mapping[str, str] | None = None,
    ) -> Receipt:
        """Apply one delivered event if its predecessor was applied; else park it.

        The event is recorded in the inbox first, in one statement that finds a concurrent delivery's
        row (``UnitOfWork.record_received``): that is a duplicate. Only then are its version and its
        predecessor's looked at, among the other events of its aggregate.

        Raises for an event that can never be applied (ValueError, ValidationError, EventRejected
        — EventConflict included) and lets any other failure through (nothing is recorded).
        """
        payload = self.payload_of(envelope, source_stream)
        handler = self.handler_of(source_stream, envelope.event_type)
        event_id = str(envelope.event_id)
        with self.store.transaction() as unit:
            if not unit.record_received(envelope, source_stream):
                _require_same_as_received(unit, envelope)
                ordering.unpark(unit.session, event_id)
                return Receipt.DUPLICATE
            self.verify(envelope, source_stream)
            require_recorded_in_the_past(envelope)
            seen = ordering.seen_versions(unit.session, source_stream, envelope.stream_id, but=event_id)
            if envelope.version in seen:
                raise EventConflict(
                    f"{envelope.stream_id} version {envelope.version} was already applied "
                    f"from another event than {envelope.event_id}"
                )
            if envelope.version > 1 and envelope.version - 1 not in seen:
                unit.forget_received(envelope.event_id)  # parked, it is not received yet
                wire = dict(fields) if fields is not None else envelope.to_wire()
                ordering.park(unit.session, envelope, source_stream, source_entry_id, wire)
                return Receipt.PARKED
            if handler is not None:
                handler(unit, envelope, payload)
            ordering.unpark(unit.session, event_id)
            fault_point("consumer.before_commit")
        fault_point("consumer.after_commit")
        return Receipt.APPLIED

    def verify(self, envelope: EventEnvelope, source_stream: str, *, recheck: bool = True) -> None:
        """Nothing unsigned or forged is applied or parked (a duplicate changes nothing: not checked).

        ``recheck=False``: the key directory was looked at for the whole batch.
        """
        if self.keyring is None:
            return
        expected_stream = STREAM_OF_PRODUCER.get(envelope.producer)
        if expected_stream != source_stream:
            raise SignatureRejected(
                f"the event claims producer {envelope.producer!r} but arrived on {source_stream}, "
                f"not on {expected_stream or 'a producer stream'}"
            )
        self.keyring.verify(envelope, recheck=recheck)

    def payload_of(
        self, envelope: EventEnvelope, source_stream: str, *, recheck: bool = True
    ) -> EventPayload:
        """The event's payload, checked against its contract. An event that breaks the contract is refused
        as unsigned or forged when its signature does not verify either, so its dead letter names the
        forgery (``event.signature_rejected``), not a contract breach: the check costs nothing more on the
        ordinary path, only an event refused anyway pays it."""
        try:
            return parse_payload(envelope)
        except CANNOT_APPLY:
            self.verify(envelope, source_stream, recheck=recheck)
            raise

    async def passes_by(self, stream: str, fields: Mapping[Any, Any]) -> bool:
        """True for a copy `rehab dlq retry` published for other groups than this one (``retry_for``),
        to be acknowledged without effect, once its signature verifies.

        ``retry_for`` is not signed: an entry naming another group that is unsigned, forged or undecodable
        takes the ordinary path and is dead-lettered with its reason, not passed by unseen (security
        review F2). Only an entry carrying ``retry_for`` for others pays for the check.
        """
        if not retried_for_others(fields, self.group):
            return False
        return await asyncio.to_thread(self._signed, stream, fields)

    def _signed(self, stream: str, fields: Mapping[Any, Any]) -> bool:
        try:
            self.verify(EventEnvelope.from_wire(fields), stream)
        except Exception:  # unsigned, forged, undecodable, keys unreadable: the ordinary path decides
            return False
        return True

    def handler_of(self, stream: str, event_type: str) -> EventHandler | None:
        for subscription in self.subscriptions:
            if subscription.stream == stream:
                return subscription.handlers.get(event_type)
        return None

    def _applied_meanwhile(self, event_id: UUID) -> bool:
        try:
            with self.store.reading() as unit:  # never waits for a writer holding the database
                return unit.has_received(event_id)
        except Exception:
            return False  # the store itself is failing: the delivery counts as failed

    # -- one stream entry ----------------------------------------------------------------------
    async def handle_entry(
        self, redis: Redis, stream: str, entry_id: str, fields: Mapping[Any, Any], deliveries: int = 1
    ) -> bool:
        """Handle one delivery of a stream entry; True when the entry may be acknowledged."""
        if await self.passes_by(stream, fields):
            return True  # another group's dead letter published again: not this service's to handle
        text = fields_as_text(fields)  # as kept when parked or dead-lettered (bytes not UTF-8 shown as such)
        envelope: EventEnvelope | None = None
        try:
            envelope = EventEnvelope.from_wire(fields)  # bytes that are not UTF-8: undecodable
            receipt = await asyncio.to_thread(self.receive, envelope, stream, entry_id, text)
        except CANNOT_APPLY as error:
            self.infrastructure.settled(stream, entry_id)
            await self.dead_letter(redis, stream, entry_id, text, reason_of(error), deliveries)
            return True
        except Exception as error:
            if envelope is not None and await asyncio.to_thread(self._applied_meanwhile, envelope.event_id):
                return True  # a concurrent delivery (a zombie consumer, a replica) applied it first
            if is_infrastructure_failure(error):
                return await self._wait_for_infrastructure(stream, entry_id, error)
            return await self._failed(redis, stream, entry_id, text, error, deliveries)
        self.infrastructure.settled(stream, entry_id, succeeded=True)
        if receipt is Receipt.PARKED:
            self.stats.parked += 1
            log.info(
                "parked %s v%d of %s: its predecessor is not applied yet",
                envelope.stream_id,
                envelope.version,
                stream,
            )
        elif receipt is Receipt.APPLIED:
            self.stats.applied += 1
            await self.drain_safely(redis, stream, envelope.stream_id)
        else:
            self.stats.duplicates += 1
        return True

    async def handle_batch(
        self, redis: Redis, stream: str, entries: Sequence[tuple[Any, Mapping[Any, Any]]]
    ) -> list[str]:
        """Handle one read of entries (first deliveries); returns the ids that may be acknowledged.

        The decodable entries are applied in one transaction (``kernel.messaging.batch``); when one of
        them cannot be, the transaction records nothing and every entry takes the one-by-one path of
        :meth:`handle_entry`. A failing store leaves them all pending, with one back-off.
        """
        return await batch.handle_batch(self, redis, stream, entries)

    async def _failed(
        self,
        redis: Redis,
        stream: str,
        entry_id: str,
        fields: dict[str, str],
        error: Exception,
        deliveries: int,
    ) -> bool:
        spent = self.infrastructure.budget_spent(stream, entry_id, deliveries)
        if spent >= self.max_deliveries:
            self.infrastructure.settled(stream, entry_id)
            await self.dead_letter(
                redis, stream, entry_id, fields, reason_of(error, attempts=spent), deliveries
            )
            return True
        self.stats.failed_deliveries += 1
        log.warning(
            "entry %s of %s failed (delivery %d of at most %d), left pending: %s",
            entry_id,
            stream,
            deliveries,
            self.max_deliveries,
            describe(error),
            exc_info=error,
        )
        return False

    async def _wait_for_infrastructure(self, stream: str, entry_id: str, error: Exception) -> bool:
        """Leave the entry pending without spending its delivery budget, and back off."""
        self.stats.infrastructure_failures += 1
        wait = self.infrastructure.failed(stream, entry_id)
        log.warning(
            "entry %s of %s not applied: the infrastructure failed (%s); left pending without spending "
            "its delivery budget, retrying in %.1fs",
            entry_id,
            stream,
            describe(error),
            wait,
        )
        await asyncio.sleep(wait)
        return False

    async def dead_letter(
        self,
        redis: Redis,
        stream: str,
        entry_id: str,
        fields: Mapping[Any, Any],
        reason: DeadLetterReason | str,
        deliveries: int,
    ) -> str:
        """Write the entry to this service's dead-letter stream; returns the dead letter's id."""
        technical = reason if isinstance(reason, str) else reason.detail
        log.warning("dead-lettering entry %s of %s: %s", entry_id, stream, technical)
        letter = new_dead_letter(
            source_stream=stream,
            source_entry_id=entry_id,
            consumer_group=self.group,
            reason=reason,
            delivery_count=deliveries,
            fields=fields,
        )
        # redis-py types XADD's fields as an invariant dict of its own unions: dict[str, str] is refused
        dead_id = await redis.xadd(dead_letter_stream(self.service), letter.to_entry())  # type: ignore[arg-type]
        self.stats.dead_lettered += 1
        return as_text(dead_id)

    # -- later deliveries (kernel.messaging.reclaim) ------------------------------------------
    async def drain_parked(self, redis: Redis, source_stream: str, stream_id: str) -> int:
        """Apply the parked events of one aggregate that are now next in line; returns how many."""
        return await reclaim.drain_parked(self, redis, source_stream, stream_id)

    async def drain_all_parked(self, redis: Redis) -> int:
        """Apply every parked event whose predecessor has been applied meanwhile (by any process)."""
        return await reclaim.drain_all_parked(self, redis)

    async def reclaim_once(
        self, redis: Redis, min_idle_seconds: float | None = None, batch: int = 100
    ) -> int:
        """Claim (XAUTOCLAIM) and handle the group's entries idle longer than the claim time."""
        return await reclaim.reclaim_once(self, redis, min_idle_seconds, batch)

    async def recover_lost_reads(self, redis: Redis, idle_seconds: float | None = None) -> int:
        """Handle this consumer's own pending entries that no handler holds or left pending: reads Redis
        answered while the process could not take the reply (a stall past the socket timeout)."""
        return await reclaim.recover_lost_reads(self, redis, idle_seconds)

    async def reclaim_forever(
        self, redis: Redis, every_seconds: float | None = None, min_idle_seconds: float | None = None
    ) -> None:
        """Reclaim idle entries and apply parked events whose turn came, until cancelled."""
        await reclaim.reclaim_forever(self, redis, every_seconds, min_idle_seconds)

    async def reconcile_once(self, redis: Redis) -> int:
        """Handle what the group passed without this service receiving it (``kernel.messaging.reconcile``)."""
        return await reconcile.reconcile_once(self, redis)

    def checkpoint(self, stream: str) -> str:
        """The last entry of ``stream`` reconciliation has accounted for."""
        return reconcile.checkpoint(self, stream)

    def health(self) -> dict[str, int]:
        """The counters plus how many events wait parked now."""
        with self.store.reading() as unit:
            parked_now = ordering.parked_count(unit.session)
        return {**asdict(self.stats), "parked_now": parked_now}

    async def drain_safely(self, redis: Redis, source_stream: str, stream_id: str) -> None:
        # The entry itself is applied and will be acknowledged whatever happens here: a failure
        # to drain leaves the successors parked for the next reclaim pass.
        try:
            await self.drain_parked(redis, source_stream, stream_id)
        except Exception as error:
            log.warning("cannot apply parked successors of %s yet: %s", stream_id, error)

    # -- groups and subscribers ------------------------------------------------------------------
    async def ensure_groups(self, redis: Redis) -> None:
        """Create each group at the start of its stream, so a new consumer gets the whole backlog."""
        for subscription in self.subscriptions:
            try:
                await redis.xgroup_create(subscription.stream, self.group, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    async def keep_groups(self, redis: Redis, every_seconds: float = 2.0) -> None:
        """Re-create groups that vanished (Redis restarted without its data) until cancelled."""
        while True:
            raise_if_cancelled()
            try:
                await self.ensure_groups(redis)
            except (RedisError, OSError) as error:
                log.debug("cannot check consumer groups yet: %s", error)
            raise_if_cancelled()
            await asyncio.sleep(every_seconds)

    def register(self, broker: RedisBroker, redis: Redis) -> None:
        """Add one FastStream subscriber per consumed stream to the broker."""
        for subscription in self.subscriptions:
            self._register_one(broker, redis, subscription.stream)

    def _register_one(self, broker: RedisBroker, redis: Redis, stream: str) -> None:
        # Bounded reads: XREADGROUP COUNT max_records, so a large backlog never outgrows the socket timeout.
        sub = StreamSub(
            stream,
            group=self.group,
            consumer=self.name,
            last_id=">",
            polling_interval=500,
            batch=True,
            max_records=self.max_records,
        )

        @broker.subscriber(stream=sub, parser=_entries_left_undecoded)
        async def on_stream_entries(message: RedisBatchStreamMessage) -> None:
            ids = message.raw_message["message_ids"]
            held = {as_text(entry_id) for entry_id in ids}
            in_hand = self.in_hand.setdefault(stream, set())
            in_hand.update(held)
            try:
                done = await self.handle_batch(
                    redis, stream, list(zip(ids, message.raw_message["data"], strict=True))
                )
            finally:
                in_hand.difference_update(held)
            if len(done) == len(ids):
                await message.ack()  # one XACK of the whole batch
                return
            if done:
                await redis.xack(stream, self.group, *done)
            self.left_pending.setdefault(stream, set()).update(held.difference(done))
            await message.nack()  # the rest stays pending: reclaim delivers it again after the idle time


async def _entries_left_undecoded(
    message: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's batch parser decodes every entry as JSON (raising and catching for each of ours, which
    are plain fields) and dumps the read again as the message's body, which no handler here reads
    (``handle_batch`` decodes each entry once): it parses the read without its entries, and the message
    keeps them (``raw_message["data"]``), its ids and its acknowledgement as FastStream made them."""
    parsed = await parse({**message, "data": []})
    parsed.raw_message = message
    return parsed


def _require_same_as_received(unit: UnitOfWork, envelope: EventEnvelope) -> None:
    text = unit.session.scalar(
        select(inbox_table.c.envelope).where(inbox_table.c.event_id == str(envelope.event_id))
    )
    # The signature is left out: the relay signs again when it republishes, maybe with a newer key.
    if text is not None and _unsigned(EventEnvelope.model_validate_json(text)) != _unsigned(envelope):
        raise EventConflict(f"event {envelope.event_id} was applied before with other content")


def _unsigned(envelope: EventEnvelope) -> EventEnvelope:
    return envelope.model_copy(update={"signature": None})
