"""Idempotent consumers on FastStream StreamSub: a group per service; effect and inbox in one transaction."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from rehab_contracts import EventEnvelope, EventPayload, parse_payload

from services.eventing.cancellation import raise_if_cancelled
from services.eventing.store import EventStore, UnitOfWork

log = logging.getLogger(__name__)

EventHandler = Callable[[UnitOfWork, EventEnvelope, EventPayload], None]
"""Applies one consumed event inside the transaction that also records it in the inbox."""


class EventRejected(Exception):
    """A consumed event is well-formed but cannot be applied (a rule of the consumer says no)."""


@dataclass(frozen=True)
class Subscription:
    """The producer stream a service consumes and what it does with each event type.

    Every event on the stream is archived in the inbox; types without a handler are only archived.
    """

    stream: str
    handlers: Mapping[str, EventHandler] = field(default_factory=dict)


def consumer_name(service: str) -> str:
    """A name unique to this process, so two replicas of one service never share pending entries."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:6]}"


def dead_letter_stream(service: str) -> str:
    return f"rehab.{service}.dead_letters"


class EventConsumer:
    """Turns stream entries into effects exactly once per ``event_id``."""

    def __init__(self, store: EventStore, service: str, subscriptions: list[Subscription]) -> None:
        self.store = store
        self.service = service
        self.group = service
        self.name = consumer_name(service)
        self.subscriptions = subscriptions

    def apply(self, envelope: EventEnvelope, source_stream: str) -> bool:
        """Apply one event; False when it had been applied before (a redelivery)."""
        payload = parse_payload(envelope)
        handler = self._handler(source_stream, envelope.event_type)
        with self.store.transaction() as unit:
            if unit.has_received(envelope.event_id):
                return False
            unit.record_received(envelope, source_stream)
            if handler is not None:
                handler(unit, envelope, payload)
        return True

    def _handler(self, stream: str, event_type: str) -> EventHandler | None:
        for subscription in self.subscriptions:
            if subscription.stream == stream:
                return subscription.handlers.get(event_type)
        return None

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
        sub = StreamSub(stream, group=self.group, consumer=self.name, last_id=">", polling_interval=500)

        @broker.subscriber(stream=sub, parser=_event_id_as_message_id)
        async def on_stream_entry(message: RedisStreamMessage) -> None:
            fields = message.raw_message["data"]
            try:
                envelope = EventEnvelope.from_wire(fields)
                await asyncio.to_thread(self.apply, envelope, stream)
            except (ValueError, ValidationError, EventRejected) as error:
                await self._dead_letter(redis, stream, message, fields, error)

    async def _dead_letter(
        self,
        redis: Redis,
        stream: str,
        message: RedisStreamMessage,
        fields: Mapping[Any, Any],
        error: Exception,
    ) -> None:
        reason = f"{type(error).__name__}: {error}"[:2000]
        log.warning("dead-lettering entry %s of %s: %s", message.message_id, stream, reason)
        entry = {
            "source_stream": stream,
            "source_entry_id": _entry_id(message),
            "consumer_group": self.group,
            "reason": reason,
            "fields": json.dumps({_text(k): _text(v) for k, v in fields.items()}, ensure_ascii=False),
        }
        await redis.xadd(dead_letter_stream(self.service), entry)  # type: ignore[arg-type]


async def _event_id_as_message_id(raw: Any, original: Callable[[Any], Any]) -> Any:
    """FastStream gives plain-field entries a random message id; ours is the event id."""
    message = await original(raw)
    event_id = raw.get("data", {}).get(b"event_id")
    if event_id:
        message.message_id = event_id.decode()
    return message


def _entry_id(message: RedisStreamMessage) -> str:
    ids = message.raw_message.get("message_ids") or []
    return _text(ids[0]) if ids else ""


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
