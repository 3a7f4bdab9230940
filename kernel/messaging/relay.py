"""Outbox relay: publishes a service's stored events to its Redis stream as plain JSON fields."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from rehab_contracts import EventEnvelope
from rehab_contracts.envelope import WIRE_FIELDS
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kernel.faults import fault_point
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.dead_letters import as_text
from kernel.messaging.signing import KeyMaterialError, KeyRing, SigningKey, canonical_json
from kernel.store.outbox import PendingEvent
from kernel.store.store import EventStore
from kernel.store.tables import outbox_table

log = logging.getLogger(__name__)

EntryKey = tuple[int, int]
"""A stream entry id ``<milliseconds>-<sequence>`` as numbers, in the stream's order."""
CLOCK_MARGIN_MS = 3_600_000
"""How far the relay's clock (``published_at``) may be behind Redis's (entry ids): an hour."""


@dataclass
class RelayHealth:
    """Whether the relay publishes: for ``/health`` (not ready while it keeps failing) and ``/metrics``."""

    published_total: int = 0
    failing_since: float | None = None
    """``time.monotonic()`` of the first failure of the current run of failures; None while it publishes."""
    last_error: str | None = None

    def published(self, count: int) -> None:
        self.published_total += count

    def succeeded(self) -> None:
        self.failing_since = None
        self.last_error = None

    def failed(self, error: str) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self.last_error = error[:500]

    def failing_for(self) -> float:
        """Seconds the relay has been failing without a successful pass in between (0: it is not)."""
        return 0.0 if self.failing_since is None else time.monotonic() - self.failing_since

    lowest_unpublished: tuple[int, float] | None = None
    """The outbox's lowest unpublished position at the last look (``/health``), and when it was first seen."""

    def unpublished_for(self, position: int | None, now: float | None = None) -> float:
        """Seconds the outbox's lowest unpublished event has stayed ``position`` (None: nothing unpublished),
        whichever instance's relay should publish it: passes that claim nothing because another instance
        holds the outbox "succeed", so only this tells that nobody publishes (0: it moved, or none)."""
        now = time.monotonic() if now is None else now
        if position is None:
            self.lowest_unpublished = None
            return 0.0
        if self.lowest_unpublished is None or self.lowest_unpublished[0] != position:
            self.lowest_unpublished = (position, now)
        return now - self.lowest_unpublished[1]


def entry_key(entry_id: str) -> EntryKey:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds or 0), int(sequence or 0)


_TEXT_FIELDS = tuple((name, name.encode()) for name in WIRE_FIELDS if name != "payload")
_DUMPED_APART = {"payload", "signature"}
_PAYLOAD = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
"""The payload field's encoding (``EventEnvelope.to_wire``'s ``json.dumps``), its encoder made once."""


def stream_entry(envelope: EventEnvelope, signing_key: SigningKey | None) -> dict[bytes, bytes]:
    """The fields an event is published as: ``EventEnvelope.to_wire()`` of the envelope, signed with
    ``signing_key`` when given, as UTF-8 bytes for XADD.

    The envelope is dumped once for both the signature and the fields (``sign(...).to_wire()`` dumps
    it three times), its payload not copied by the dump but encoded as it is: it is already a JSON
    object (the store's text, parsed), which the dump's JSON mode gives back unchanged.
    """
    fields = envelope.model_dump(mode="json", exclude=_DUMPED_APART)
    return _entry(PendingEvent(0, fields, envelope.payload, envelope.signature), signing_key)


def _entry(event: PendingEvent, signing_key: SigningKey | None) -> dict[bytes, bytes]:
    """``stream_entry`` of an event as the outbox hands it over (its fields already in JSON mode, no
    envelope built). redis-py is handed bytes it need not encode. The relay's cost per event."""
    data = dict(event.fields)
    data["payload"] = event.payload
    if signing_key is None:
        data["signature"] = event.signature
    else:
        data["signature"] = signing_key.signature(canonical_json(data))
    entry = {key: b"" if data[name] is None else str(data[name]).encode() for name, key in _TEXT_FIELDS}
    entry[b"payload"] = _PAYLOAD.encode(event.payload).encode()
    return entry


class OutboxRelay:
    """Moves committed events from the service's outbox to its Redis stream, in position order.

    An event is marked published only after its XADD returned an entry id. A crash between the
    two republishes the event; consumers deduplicate on ``event_id`` (at-least-once delivery).
    Every pass starts from the lowest *unpublished* position, never from a high-water mark, so
    an event whose transaction committed after a later one is still published.

    With a ``keyring``, every event is signed with the agency's newest key as it is published
    (the store keeps it unsigned; a republished event is signed again, possibly by a newer key).
    """

    def __init__(
        self,
        store: EventStore,
        redis: Redis,
        stream: str,
        *,
        batch_size: int = 200,
        idle_seconds: float = 0.1,
        retry_seconds: float = 1.0,
        loss_check_seconds: float = 5.0,
        keyring: KeyRing | None = None,
        expected_groups: Collection[str] = (),
        restore_seconds: float | None = None,
    ) -> None:
        self.store = store
        self.redis = redis
        self.stream = stream
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.retry_seconds = retry_seconds
        self.wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop ``run`` runs on: ``notify`` from another thread hands it the wake-up."""
        self.loss_check_seconds = loss_check_seconds
        self.keyring = keyring
        self._last_floor: EntryKey | None = None
        self._group_floors: dict[str, EntryKey] = dict.fromkeys(expected_groups, (0, 0))
        """Each group's delivery floor at the last check that found it on the stream; an expected group
        not found yet counts from the start (it may have vanished before this relay started)."""
        self.restore_seconds = restore_seconds
        """How far back a stream that lost its data is restored (the retention period); None: all of it."""
        self._entries_added_at_least: int | None = None
        """The least ``entries-added`` the stream shows if Redis kept its data: what it showed at the last
        check (at the first, the events the outbox has published) plus what this relay added since."""
        self.health = RelayHealth()

    async def republish_lost_entries(self) -> int:
        """Mark unpublished the events whose entries left the stream before every group had them, so
        the next pass publishes them again; returns how many.

        Entries leave a stream when Redis loses data (restarted without it, flushed, restored from an
        older snapshot), when retention trims what every group acknowledged, and when someone trims by
        hand (``XTRIM``, or an ``XADD`` with ``MAXLEN``: ACLs cannot forbid that option). Redis's
        ``entries-added`` does not fall when a stream is trimmed, so it cannot tell them apart; the
        groups can. An entry before the *delivery floor* (every group was delivered it and none holds
        it pending) was received by every consumer; a published event whose entry lay at or after the
        floor and that no entry from there on holds is lost. Entries are told apart by the event they
        hold, not by their ids: a replica promoted with a clock behind the lost primary's gives new
        entries the ids lost ones had. The floor of the previous check counts too, so an entry trimmed
        while pending is found even after a consumer's XAUTOCLAIM dropped it from the pending list,
        and so does the last floor of a group that has vanished since (see ``_delivery_floor``).
        Consumers deduplicate what they had already applied. Costs two small commands per group, a read
        of the outbox rows published since shortly before the floor (``_published_from``), and an
        XRANGE of the entries after the floor only when published events lie after it.

        When Redis lost the stream's data (``_stream_lost_data``), what every group had received is
        published again too, from the start of ``restore_seconds``: the stream is what subscribers
        who come later read (ADR 0003), and retention promises them that period, whether or not the
        groups re-created meanwhile had caught up before this check.
        """
        floor = await self._delivery_floor()
        checked_from = floor if self._last_floor is None else min(floor, self._last_floor)
        self._last_floor = floor
        if await self._stream_lost_data():
            checked_from = min(checked_from, self._restore_from())
        published = await asyncio.to_thread(self._published_from, checked_from)
        candidates = [
            (position, event_id)
            for position, entry_id, event_id in published
            if entry_key(entry_id) >= checked_from
        ]
        if not candidates:
            return 0
        present = await self._event_ids(since=checked_from)
        lost = [position for position, event_id in candidates if event_id not in present]
        if lost:
            await asyncio.to_thread(self.store.republish, lost)
            log.warning(
                "%d published events of %s are missing from the stream (Redis lost data, or entries were "
                "trimmed before every consumer group had them); publishing them again",
                len(lost),
                self.stream,
            )
        return len(lost)

    async def _stream_lost_data(self) -> bool:
        """Whether the stream shows fewer entries ever added than it must have if Redis kept its data.

        ``entries-added`` (Redis 7) counts every XADD to the stream and never falls, trimming included;
        it restarts when the stream is lost (flushed, restarted without its data, restored from an older
        snapshot, deleted). Consumers re-create their groups and read what comes next within
        milliseconds, so the groups alone cannot tell a loss from a trim once they have caught up."""
        try:
            info: Mapping[Any, Any] = await self.redis.xinfo_stream(self.stream)
        except ResponseError as error:
            if "no such key" in str(error).lower():
                self._entries_added_at_least = 0
                return True
            raise
        added = info.get("entries-added", info.get(b"entries-added"))
        if added is None:  # a Redis before 7 does not count: the groups' floors are all there is
            return False
        if self._entries_added_at_least is None:
            self._entries_added_at_least = await asyncio.to_thread(self.store.published_count)
        lost = int(added) < self._entries_added_at_least
        self._entries_added_at_least = int(added)
        return lost

    def _restore_from(self) -> EntryKey:
        """The first entry id a stream that lost its data is restored from (the retention period)."""
        if self.restore_seconds is None:
            return (0, 0)
        return (max(0, int((time.time() - self.restore_seconds) * 1000)), 0)

    def _published_from(self, floor: EntryKey) -> list[tuple[int, str, str]]:
        """(position, entry id, event id) of the published events whose entries may lie at or after
        ``floor``.

        An entry id is Redis's clock at the XADD, in milliseconds; the relay marks the event published
        after that, by its own clock. So only rows marked published since the floor's time are read
        (the indexed ``published_at``), less ``CLOCK_MARGIN_MS`` for clocks that disagree: the check
        costs the events published since the slowest group's position, not the whole outbox (issue 16:
        a check read all of them, 4.5-9 s and 382 MB at a million published events, bench/scale.py).
        Of those, the database hands over only the entries whose ids may be at or after the floor, compared
        as text: entry ids whose milliseconds have as many digits as the floor's (13, from 2001 to 2286)
        sort as text as they do as numbers, and any other id is handed over too. Without that, every
        check read an hour of published events (an event read 720 times by a check every 5 s, ~1.7 µs
        each: at 100 events/s, ~0.6 s of CPU every check). The caller keeps those at or after the floor
        exactly.
        """
        entry_id = outbox_table.c.stream_entry_id
        query = select(outbox_table.c.position, entry_id, outbox_table.c.event_id).where(
            outbox_table.c.published_at.is_not(None)
        )
        if floor[0] > CLOCK_MARGIN_MS:
            since = datetime.fromtimestamp((floor[0] - CLOCK_MARGIN_MS) / 1000, UTC)
            milliseconds = str(floor[0])
            same_digits = "_" * len(milliseconds) + "-%"
            query = query.where(
                outbox_table.c.published_at >= since,
                (entry_id >= milliseconds) | entry_id.not_like(same_digits),
            )
        with self.store.reading() as unit:
            return [
                (position, entry_id, event_id) for position, entry_id, event_id in unit.session.execute(query)
            ]

    async def _delivery_floor(self) -> EntryKey:
        """The lowest entry some group has not been delivered or not acknowledged; (0, 0) when the
        stream or its groups are gone (every published entry missing from it is then lost).

        A group seen at an earlier check but missing now (deleted, or lost with Redis's data, and not
        re-created yet) counts with the floor it had then: what it had not received by then may never
        reach it, since its re-created group starts at the stream's first entry and the stream may go
        too before it reads that far (the CI flake of tests/faults/test_group_loss.py: a check between
        the two took the other group's floor as everyone's). An expected group (``expected_groups``)
        never seen counts from the stream's start. A group removed for good is remembered until the
        relay restarts.
        """
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except ResponseError as error:
            if "no such key" in str(error).lower():
                return (0, 0)
            raise
        if not groups:
            return (0, 0)
        present: dict[str, EntryKey] = {}
        for group in groups:
            name = as_text(group["name"])
            last = entry_key(as_text(group["last-delivered-id"]))
            present[name] = (last[0], last[1] + 1)
            if int(group["pending"]):
                summary = await self.redis.xpending(self.stream, name)
                if summary["min"] is not None:  # None: acknowledged since XINFO GROUPS counted them
                    present[name] = min(present[name], entry_key(as_text(summary["min"])))
        self._group_floors.update(present)
        return min(self._group_floors.values())

    async def _event_ids(self, since: EntryKey) -> set[str]:
        """The event ids the stream's entries from ``since`` on hold."""
        ids: set[str] = set()
        start = f"{since[0]}-{since[1]}"
        while True:
            page = await self.redis.xrange(self.stream, min=start, count=1000) or []
            ids.update(_event_id(fields or {}) for _entry_id, fields in page)
            if len(page) < 1000:
                return ids
            start = "(" + as_text(page[-1][0])

    async def _failed(self, what: str, error: Exception, level: int) -> None:
        """Say a failure once while it lasts (then at debug level: a store not migrated yet failed every
        pass, seven multi-line warnings in 11 s), and wait before the next pass."""
        repeated = self.health.last_error == f"{what}: {error}"[:500]
        self.health.failed(f"{what}: {error}")
        log.log(
            logging.DEBUG if repeated else level,
            "%s (%s); retrying in %.1fs",
            what,
            error,
            self.retry_seconds,
        )
        await asyncio.sleep(self.retry_seconds)

    def notify(self) -> None:
        """Tell the relay new events were committed, so it need not wait for its next poll.

        Commands commit in worker threads, and an ``asyncio.Event`` may only be set from its loop's thread
        (set elsewhere, the waiting loop is not woken until something else wakes it): from another thread
        the set is handed to the relay's loop."""
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self.wakeup.set()
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the service is stopping
            loop.call_soon_threadsafe(self.wakeup.set)

    async def publish_pending(self) -> int:
        """Publish every unpublished event this instance can claim; returns how many were published.

        Each batch is claimed (``Outbox.claim_unpublished``): with several instances of the producer on
        one PostgreSQL database, one relay at a time publishes, the others' claims come back empty.
        A batch short of ``batch_size`` was all there was: the pass ends without claiming again (a
        command committed meanwhile has woken the relay for its next pass, ``notify``).
        """
        total = 0
        while True:
            claim = await asyncio.to_thread(self.store.claim_unpublished, self.batch_size)
            if not claim.events:
                if claim.holding:  # a claim without a transaction (SQLite's) has nothing to let go of
                    await asyncio.to_thread(claim.release)
                return total
            try:
                events = claim.events
                entry_ids = await self._xadd(events)
                fault_point("relay.after_xadd")
                published = [
                    (event.position, entry_id) for event, entry_id in zip(events, entry_ids, strict=True)
                ]
                await asyncio.to_thread(claim.mark_published, published)  # which ends the claim
            except BaseException:
                if claim.holding:
                    await asyncio.to_thread(claim.release)
                raise
            total += len(published)
            self.health.published(len(published))
            if self._entries_added_at_least is not None:
                self._entries_added_at_least += len(published)
            if len(published) < self.batch_size:
                return total

    async def _xadd(self, events: list[PendingEvent]) -> list[str]:
        # The key directory is looked at once a batch: a key rotated or revoked since takes effect now.
        signing_key = self.keyring.current_signing_key() if self.keyring is not None else None
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                # redis-py types XADD's fields as an invariant dict: it refuses a dict[bytes, bytes]
                pipe.xadd(self.stream, _entry(event, signing_key))  # type: ignore[arg-type]
            results = await pipe.execute()
        return [entry.decode() if isinstance(entry, bytes) else str(entry) for entry in results]

    async def run(self) -> None:
        """Publish until cancelled; while Redis is unreachable, keep retrying (nothing is lost)."""
        self._loop = asyncio.get_running_loop()
        next_check = 0.0
        while True:
            raise_if_cancelled()
            try:
                if asyncio.get_running_loop().time() >= next_check:
                    await self.republish_lost_entries()
                    next_check = asyncio.get_running_loop().time() + self.loss_check_seconds
                published = await self.publish_pending()
                if published:
                    log.debug("relay published %d events to %s", published, self.stream)
            except (RedisError, OSError) as error:
                await self._failed("relay cannot reach Redis", error, logging.WARNING)
                continue
            except SQLAlchemyError as error:  # e.g. its database locked past the busy timeout
                # An event XADDed but not marked published is published again next pass (a duplicate).
                await self._failed("relay cannot use its store", error, logging.WARNING)
                continue
            except KeyMaterialError as error:  # e.g. a rotated key with the wrong mode: fixable live
                await self._failed("relay cannot sign events", error, logging.ERROR)
                continue
            except Exception as error:  # a defect must not end publishing for good: say it, retry
                log.exception("relay failed unexpectedly")
                await self._failed("relay failed unexpectedly", error, logging.ERROR)
                continue
            if self.health.failing_since is not None:
                log.info("relay publishes to %s again after %.0fs", self.stream, self.health.failing_for())
            self.health.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.idle_seconds)
            self.wakeup.clear()


def _event_id(fields: Mapping[Any, Any]) -> str:
    """An entry's ``event_id`` field as text ('' when it has none), whether the client decodes replies."""
    return as_text(fields.get(b"event_id", fields.get("event_id", b"")))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
