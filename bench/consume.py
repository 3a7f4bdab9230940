"""Settlement's consumer path in one process, kernel and settlement apart: `python -m bench.consume`.

The same signed backlog as ``bench.live``'s settlement row (real journeys of ``bench.journeys``, signed
by their producers, as Redis hands them over: bytes), fed to ``kernel.messaging.batch.handle_batch`` in
reads of ``--batch`` entries per stream, the four streams in turn, on a fresh SQLite store each run. No
Redis, no FastStream, no HTTP: what is left is the kernel's batch path and settlement's handlers, as
``create_app`` wires them. Each round runs, interleaved on fresh stores:

* ``kernel``: the kernel's path, signatures checked, settlement's handlers replaced by no-ops;
* ``kernel, unsigned``: the same without a key ring (what the signature check costs is the difference);
* ``settlement``: the kernel's path with settlement's handlers (the live ledger), as deployed;
* ``floor``: the least an honest settlement does per event, no kernel or domain code (ADR 0022): each
  entry decoded (``EventEnvelope.from_wire``), its payload validated (``parse_payload``) and its
  signature checked (``EventConsumer.verify``, the key ring's libsodium check), then per read one
  SQLite transaction (WAL, ``synchronous=FULL``, the settlement store's own tables and indexes) holding
  the inbox's dedupe read and its rows, one fact row and one posting row per event, written by
  ``sqlite3``'s ``executemany``;
* ``floor, unsigned``: the same without a key ring.

It prints the CPU microseconds per event of each (``time.process_time``: SQLite's work included, the
wait for the disk not), median of ``--rounds``. ``--profile FILE`` writes a cProfile of one more
``settlement`` run. Results: bench/README.md (``bench.live``, "Third pass").
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rehab_contracts import EventEnvelope, parse_payload

from kernel.messaging import batch, ordering
from kernel.messaging.consumer import DEFAULT_MAX_RECORDS, EventConsumer, Subscription
from kernel.runtime import FREEZE_AFTER_START, ServiceSettings, batch_size
from rehab.keys import ensure_keys
from rehab.services import SERVICES

KINDS = ("kernel", "kernel, unsigned", "settlement", "floor", "floor, unsigned")

Entries = list[tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]]
"""Reads as a subscriber gets them: (stream, [(entry id, fields)])."""


def reads(backlog: list[tuple[str, dict[str, str]]], size: int) -> Entries:
    """The backlog in reads of ``size`` entries per stream, the streams in turn (as four subscribers)."""
    per_stream: dict[str, list[tuple[bytes, dict[bytes, bytes]]]] = {}
    for number, (stream, fields) in enumerate(backlog, start=1):
        wire = {key.encode(): value.encode() for key, value in fields.items()}
        per_stream.setdefault(stream, []).append((f"1-{number}".encode(), wire))
    chunks = {
        stream: [entries[start : start + size] for start in range(0, len(entries), size)]
        for stream, entries in per_stream.items()
    }
    turns: Entries = []
    for index in range(max(len(chunk) for chunk in chunks.values())):
        turns += [(stream, chunk[index]) for stream, chunk in chunks.items() if index < len(chunk)]
    return turns


@asynccontextmanager
async def settlement_consumer(
    folder: Path, keys: Path | None, *, handlers: bool
) -> AsyncIterator[EventConsumer]:
    """Settlement's consumer as its composition root builds it (``create_app``, its lifespan run), on a
    fresh SQLite store; Redis is never reached (the consumer is fed here, not subscribed)."""
    from services.settlement.app import create_app

    settings = ServiceSettings(
        service="settlement",
        database_url=f"sqlite:///{folder / 'settlement.db'}",
        redis_url="redis://127.0.0.1:9/0",
        keys_dir=keys,
    )
    app = create_app(settings)
    setattr(app.state, FREEZE_AFTER_START, True)  # as `rehab serve` runs it (gc.freeze once started)
    async with app.router.lifespan_context(app):
        consumer: EventConsumer = app.state.runtime.consumer
        if not handlers:
            consumer.subscriptions = [
                Subscription(kept.stream, dict.fromkeys(kept.handlers, _ignore))
                for kept in consumer.subscriptions
            ]
        yield consumer


def _ignore(*_args: Any) -> None:
    return None


async def consume(consumer: EventConsumer, turns: Entries) -> float:
    """CPU seconds to handle every read; every entry must be acknowledged."""
    began = time.process_time()
    for stream, entries in turns:
        done = await batch.handle_batch(consumer, None, stream, entries)  # type: ignore[arg-type]
        if len(done) != len(entries):
            raise RuntimeError(f"{len(entries) - len(done)} entries of {stream} left pending")
    return time.process_time() - began


async def measured(kind: str, turns: Entries, keys: Path, folder: Path, *, parked: bool = False) -> float:
    signed = None if kind.endswith("unsigned") else keys
    async with settlement_consumer(folder, signed, handlers=kind == "settlement") as consumer:
        await asyncio.sleep(0.5)  # the book's warm-up on the empty store
        if kind.startswith("floor"):
            return floor(consumer, turns, folder / "settlement.db")
        if parked:
            park_one(consumer, turns[0][0], turns[0][1][0])
        seconds = await consume(consumer, turns)
        if consumer.stats.applied != sum(len(entries) for _stream, entries in turns):
            raise RuntimeError(f"{kind}: {consumer.stats} is not every event applied")
        return seconds


def floor(consumer: EventConsumer, turns: Entries, database: Path) -> float:
    """CPU seconds of the floor (module docstring) over every read, on the settlement store's file."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    began = time.process_time()
    for stream, entries in turns:
        envelopes = [EventEnvelope.from_wire(fields) for _entry_id, fields in entries]
        for envelope in envelopes:
            parse_payload(envelope)  # the payload validated against its contract, as a fact needs
            consumer.verify(envelope, stream, recheck=False)
        received_at = datetime.now(UTC).isoformat()
        connection.execute("BEGIN IMMEDIATE")
        ids = [str(envelope.event_id) for envelope in envelopes]
        held = {row[0] for row in connection.execute(_FLOOR_HELD.format(",".join("?" * len(ids))), ids)}
        fresh = [(i, e, f) for i, e, (_id, f) in zip(ids, envelopes, entries, strict=True) if i not in held]
        connection.executemany(_FLOOR_INBOX, [_inbox(i, e, stream, received_at) for i, e, _f in fresh])
        connection.executemany(_FLOOR_FACT, [(i, f[b"payload"].decode(), e.stream_id) for i, e, f in fresh])
        connection.executemany(_FLOOR_POSTING, [_posting(i, e) for i, e, _f in fresh])
        connection.execute("COMMIT")
    seconds = time.process_time() - began
    received = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
    connection.close()
    if received != sum(len(entries) for _stream, entries in turns):
        raise RuntimeError(f"floor: {received} events received")
    return seconds


_FLOOR_HELD = "SELECT event_id FROM inbox WHERE event_id IN ({})"
_FLOOR_INBOX = (
    "INSERT INTO inbox (event_id, source_stream, event_type, stream_id, version, occurred_at, received_at,"
    " envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)
_FLOOR_FACT = "INSERT INTO settlement_facts (event_id, fact, person) VALUES (?, ?, ?)"
_FLOOR_POSTING = (
    "INSERT INTO postings (posting_id, rule, key, business_date, debit_account, credit_account, amount_fen,"
    " policy_id, policy_version, source_event_ids, inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _inbox(event_id: str, envelope: EventEnvelope, stream: str, received_at: str) -> tuple[object, ...]:
    occurred_at = envelope.occurred_at.astimezone(UTC).isoformat()
    return (
        event_id,
        stream,
        envelope.event_type,
        envelope.stream_id,
        envelope.version,
        occurred_at,
        received_at,
        envelope.model_dump_json(),
    )


def _posting(event_id: str, envelope: EventEnvelope) -> tuple[object, ...]:
    day = envelope.occurred_at.date().isoformat()
    return (
        event_id,
        "floor",
        event_id,
        day,
        "floor:payer",
        envelope.stream_id,
        100,
        "floor",
        1,
        f'["{event_id}"]',
        "{}",
    )


def run_once(kind: str, turns: Entries, keys: Path, *, parked: bool = False) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-consume-") as folder:
        return asyncio.run(measured(kind, turns, keys, Path(folder), parked=parked))


def park_one(consumer: EventConsumer, stream: str, entry: tuple[bytes, dict[bytes, bytes]]) -> None:
    """Park a version 2 of an aggregate the backlog never names: it waits for its predecessor all along."""
    fields = {key.decode(): value.decode() for key, value in entry[1].items()}
    envelope = EventEnvelope.from_wire(fields).model_copy(update={"stream_id": "elsewhere", "version": 2})
    with consumer.store.transaction() as unit:
        ordering.park(unit.session, envelope, stream, "0-1", envelope.to_wire())


def profiled(path: Path, turns: Entries, keys: Path) -> None:
    """One more ``settlement`` run under cProfile, the worker thread's work run in the profiled one."""

    async def in_this_thread(function: Any, /, *args: Any) -> Any:
        return function(*args)

    to_thread, asyncio.to_thread = asyncio.to_thread, in_this_thread  # type: ignore[assignment]
    profile = cProfile.Profile()
    try:
        profile.enable()
        run_once("settlement", turns, keys)
        profile.disable()
    finally:
        asyncio.to_thread = to_thread
    profile.dump_stats(path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument(
        "--batch", type=int, default=batch_size(ServiceSettings(service="settlement")) or DEFAULT_MAX_RECORDS
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument(
        "--parked", action="store_true", help="one event of another aggregate waits parked all along"
    )
    args = parser.parse_args(argv)
    logging.getLogger("kernel.runtime").setLevel(logging.ERROR)  # "waits for Redis": never reached here
    from bench.live import signed_backlog

    kinds = args.kinds
    with tempfile.TemporaryDirectory(prefix="bench-consume-keys-") as keys_folder:
        keys = Path(keys_folder)
        ensure_keys(keys, SERVICES)
        backlog = signed_backlog(args.events, seed=1000, keys=keys)
        turns = reads(backlog, args.batch)
        cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _round in range(args.rounds):
            for kind in kinds:
                cpu[kind].append(run_once(kind, turns, keys, parked=args.parked))
        if args.profile is not None:
            profiled(args.profile, turns, keys)
    print(f"{len(backlog)} events in reads of {args.batch}, median of {args.rounds} rounds, CPU µs per event")
    for kind in kinds:
        rounds = " ".join(f"{seconds / len(backlog) * 1e6:.0f}" for seconds in cpu[kind])
        print(f"{kind:18} {statistics.median(cpu[kind]) / len(backlog) * 1e6:6.0f}  ({rounds})")


if __name__ == "__main__":
    main()
