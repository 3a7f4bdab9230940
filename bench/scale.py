"""Scale benchmark (issue 16, item 4): time and peak RSS at a province's size; prints, asserts nothing.

    .venv/bin/python -m bench.scale --events 1000000
    .venv/bin/python -m bench.scale --events 5000000 --tmp /var/tmp   # ~15 GB of disk while it runs
    .venv/bin/python -m bench.scale --keep ...        # then --archive DIR measures the same files again

Builds, in a temp dir, a settlement archive of N events of complete Liangjiang journeys (the
generator of bench.replay, bench/journeys.py) and a producer's outbox of N published events, without
ever holding N events in memory: journeys are generated a chunk at a time into a staging table and
SQLite sorts them into archive order (by business time) on disk. Each event is received when it was
recorded, so a cutoff date splits the archive (bench.replay receives every event on one day).

Then each path runs once in a fresh interpreter of its own (as a service or `rehab replay` runs it),
which reports its seconds and peak RSS:

- ``raw``: the archive read and every envelope's JSON decoded (sqlite3, ``json.loads``): the floor;
- ``replay``: ``rehab replay`` (``rebuild_ledger``);
- ``as-of``: ``rehab replay --as-of`` the day by which half the events were received (``totals_as_of``);
- ``warm-up``: settlement's start-up, the live book fed the whole fact log (``LiveLedger.warm``, which
  a starting service runs in the background while it already answers);
- ``loss-check``: one check of the outbox relay for lost entries (``republish_lost_entries``) with N
  published events in the outbox (a year's, evenly spread), against a redis-server whose stream holds
  the last 10,000 entries and whose two groups have read them all (the steady state), twice: the
  first and a second check.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text

from bench.journeys import _Journey  # one journey at a time: generate() holds every journey
from bench.replay import live_start, read_raw
from kernel.store.store import EventStore, create_store_engine, inbox_table
from kernel.store.tables import events_table, outbox_table
from services.settlement.ledger.fact_log import derive_fact_log
from services.settlement.ledger.tables import metadata as ledger_metadata

ABOUT = "scale.json"
CHUNK_JOURNEYS = 5_000
"""Journeys generated and staged together (about 41,000 events)."""
YEAR_MS = 365 * 24 * 3600 * 1000
ON_STREAM = 10_000
"""Entries the loss check's stream still holds (retention trimmed the rest)."""
STREAM = "rehab.survey.events"
PATHS = {
    "raw": "archive read + json.loads (sqlite3), the floor",
    "replay": "rehab replay (rebuild_ledger)",
    "as-of": "rehab replay --as-of mid-year (totals_as_of)",
    "live": "settlement start-up, then the books of 20,000 persons from the log",
    "loss-check": "relay loss check, N published in the outbox",
}


# -- building the files ------------------------------------------------------------------------------
def build_archive(path: Path, events: int, seed: int) -> dict[str, Any]:
    """A settlement database whose archive holds whole journeys of at least ``events`` events."""
    engine = create_store_engine(f"sqlite:///{path}")
    EventStore(engine, "settlement").create_schema(ledger_metadata)
    rng = random.Random(seed)
    journeys = staged = 0
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE staged (sort_key TEXT, event_id TEXT, source_stream TEXT, event_type TEXT, "
                "stream_id TEXT, version INTEGER, occurred_at TEXT, received_at TEXT, envelope TEXT)"
            )
        )
    while staged < events:
        rows: list[dict[str, Any]] = []
        for _ in range(CHUNK_JOURNEYS):
            if staged + len(rows) >= events:
                break
            for step, (envelope, stream) in enumerate(_Journey(rng, journeys).build()):
                occurred = envelope.occurred_at.astimezone(UTC)
                rows.append(
                    {
                        # archive order: business time, then each journey in its own order
                        "sort_key": f"{occurred.isoformat()}|{journeys:09d}|{step:03d}",
                        "event_id": str(envelope.event_id),
                        "source_stream": stream,
                        "event_type": envelope.event_type,
                        "stream_id": envelope.stream_id,
                        "version": envelope.version,
                        "occurred_at": _sqlite_time(occurred),
                        "received_at": _sqlite_time(envelope.recorded_at.astimezone(UTC)),
                        "envelope": envelope.model_dump_json(),
                    }
                )
            journeys += 1
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staged VALUES (:sort_key, :event_id, :source_stream, :event_type, "
                    ":stream_id, :version, :occurred_at, :received_at, :envelope)"
                ),
                rows,
            )
        staged += len(rows)
    with engine.begin() as connection:
        columns = (
            "event_id, source_stream, event_type, stream_id, version, occurred_at, received_at, envelope"
        )
        connection.execute(
            text(f"INSERT INTO inbox ({columns}) SELECT {columns} FROM staged ORDER BY sort_key")
        )
        connection.execute(text("DROP TABLE staged"))
    # A transaction of its own: one for both held 5M events' archive and fact log in a 15 GB WAL.
    with engine.begin() as connection:
        facts = derive_fact_log(connection)  # what the live ledger writes event by event, as it consumes
    middle = _received_at_middle(engine, staged)
    engine.dispose()
    return {"events": staged, "journeys": journeys, "facts": facts, "as_of": middle.isoformat()}


def _sqlite_time(moment: datetime) -> str:
    """As SQLAlchemy stores a DateTime on SQLite."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _received_at_middle(engine: Engine, events: int) -> date:
    """The day by which about half the events were received."""
    with engine.connect() as connection:
        received = connection.scalar(
            select(inbox_table.c.received_at).order_by(inbox_table.c.received_at).offset(events // 2).limit(1)
        )
    assert received is not None
    return date.fromisoformat(str(received)[:10])


def build_outbox(path: Path, events: int) -> tuple[int, int]:
    """A producer's store whose outbox holds ``events`` published events, spread evenly over a year
    (entry ids and ``published_at`` agree, as the relay writes them); returns the first entry's
    milliseconds and the milliseconds between two entries."""
    path.unlink(missing_ok=True)
    engine = create_store_engine(f"sqlite:///{path}")
    EventStore(engine, "survey").create_schema()
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    first_ms = int(moment.timestamp() * 1000)
    spacing_ms = max(1, YEAR_MS // events)
    payload = json.dumps({"person_id": "0" * 36, "street": "鸳鸯", "items": ["support_service_mental"]})
    for start in range(0, events, 20_000):
        numbers = range(start, min(events, start + 20_000))
        with engine.begin() as connection:
            connection.execute(
                insert(events_table),
                [
                    {
                        "position": n + 1,
                        "event_id": f"{n:036d}",
                        "stream_id": f"person-{n // 4}",
                        "version": n % 4 + 1,
                        "event_type": "NeedSurveyed",
                        "schema_version": 1,
                        "occurred_at": moment,
                        "recorded_at": moment,
                        "producer": "survey",
                        "correlation_id": f"{n // 4:036d}",
                        "payload": payload,
                    }
                    for n in numbers
                ],
            )
            connection.execute(
                insert(outbox_table),
                [
                    {
                        "position": n + 1,
                        "event_id": f"{n:036d}",
                        "published_at": moment + timedelta(milliseconds=n * spacing_ms),
                        "stream_entry_id": f"{first_ms + n * spacing_ms}-0",
                    }
                    for n in numbers
                ],
            )
    engine.dispose()
    return first_ms, spacing_ms


def generate(args: argparse.Namespace, workdir: Path) -> None:
    start = time.perf_counter()
    about = build_archive(workdir / "settlement.db", args.events, args.seed)
    archived = time.perf_counter() - start
    about["first_ms"], about["spacing_ms"] = build_outbox(workdir / "survey.db", about["events"])
    about["archive_seconds"] = round(archived, 1)
    about["outbox_seconds"] = round(time.perf_counter() - start - archived, 1)
    about["seed"] = args.seed
    (workdir / ABOUT).write_text(json.dumps(about, indent=2))


# -- measuring -----------------------------------------------------------------------------------------
def run_path(path: str, workdir: Path) -> dict[str, Any]:
    """One path, in this interpreter; returns what it went through."""
    from services.settlement.book.policy import load_policies
    from services.settlement.ledger.as_of import totals_as_of
    from services.settlement.ledger.replay import rebuild_ledger

    about = json.loads((workdir / ABOUT).read_text())
    database = workdir / "settlement.db"
    if path == "raw":
        return {"events": read_raw(database)}
    if path == "loss-check":
        return asyncio.run(loss_check(workdir, about))
    engine = create_store_engine(f"sqlite:///{database}")
    policies = load_policies()
    if path == "replay":
        report = rebuild_ledger(engine, policies)
        return {"events": about["events"], "report": str(report)[:200]}
    if path == "as-of":
        totals = totals_as_of(engine, date.fromisoformat(about["as_of"]), policies)
        return {"events": totals.events, "as_of": about["as_of"]}
    return live_start(engine, policies)


async def loss_check(workdir: Path, about: dict[str, Any]) -> dict[str, Any]:
    """Two checks of the relay against a stream holding the last entries, every group caught up."""
    from redis.asyncio import Redis

    from kernel.messaging.relay import OutboxRelay
    from rehab.local_redis import LocalRedis, free_port

    shutil.rmtree(workdir / "redis", ignore_errors=True)  # a stream of an earlier measurement
    server = LocalRedis(workdir / "redis", free_port()).start()
    redis = Redis.from_url(server.url)
    try:
        events, first_ms, spacing_ms = about["events"], about["first_ms"], about.get("spacing_ms", 1)
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(max(0, events - ON_STREAM), events):
                pipe.xadd(STREAM, {"event_id": f"{n:036d}"}, id=f"{first_ms + n * spacing_ms}-0")
            await pipe.execute()
        for group in ("assessment", "settlement"):
            await redis.xgroup_create(STREAM, group, id="$")
        store = EventStore(create_store_engine(f"sqlite:///{workdir / 'survey.db'}"), "survey")
        relay = OutboxRelay(store, redis, STREAM)
        seconds, lost = [], []
        for _check in range(2):
            start = time.perf_counter()
            lost.append(await relay.republish_lost_entries())
            seconds.append(time.perf_counter() - start)
        return {"events": events, "check_seconds": seconds, "republished": lost, "timed": "first check"}
    finally:
        await redis.aclose()
        server.stop()


def child(path: str, workdir: Path) -> None:
    """``--child``: time one path and print its seconds and peak RSS as JSON."""
    start = time.perf_counter()
    measured = run_path(path, workdir)
    measured["seconds"] = time.perf_counter() - start
    if path == "loss-check":
        measured["seconds"] = measured["check_seconds"][0]
    measured["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(measured))


def in_child(path: str, workdir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.scale", "--child", path, "--archive", str(workdir)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    measured: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return measured


def measure(args: argparse.Namespace, workdir: Path) -> None:
    about = json.loads((workdir / ABOUT).read_text())
    size_gb = used_bytes(workdir / "settlement.db") / 1e9
    print(
        f"rehab scale benchmark: {about['events']:,} events of {about['journeys']:,} journeys, "
        f"{about['facts']:,} facts (archive built in {about['archive_seconds']} s, {size_gb:.1f} GB; "
        f"outbox in {about['outbox_seconds']} s), as-of {about['as_of']}; python {sys.version.split()[0]}"
    )
    print(f"  {'path':<58} {'seconds':>8} {'peak RSS':>9}  load average (1 min) before/after")
    for path in args.paths:
        before = os.getloadavg()[0]
        measured = in_child(path, workdir)
        after = os.getloadavg()[0]
        extra = ""
        if path == "loss-check":
            second, republished = measured["check_seconds"][1], measured["republished"]
            extra = f"  (second check {second:.2f} s, republished {republished})"
        elif path == "as-of":
            extra = f"  ({measured['events']:,} events known by {measured['as_of']})"
        elif path == "live":
            built = measured["unsettled_written"]
            extra = (
                f"  (start-up {measured['start_up_seconds']} s"
                + ("" if built is None else f", writing {built:,} unsettled items once")
                + f"; {measured['books_built']:,} books at {measured['ms_per_book']} ms, "
                f"{measured['books_kept']:,} kept)"
            )
        print(
            f"  {PATHS[path]:<58} {measured['seconds']:8.2f} {measured['peak_mb']:>6.0f} MB  "
            f"{before:.1f} / {after:.1f}{extra}",
            flush=True,
        )


def used_bytes(database: Path) -> int:
    """The pages a database uses (the staging table's freed pages left out)."""
    with sqlite3.connect(database) as connection:
        pages, free, size = (
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
    return int((pages - free) * size)


def rebuild_outbox(workdir: Path) -> None:
    """``--outbox-only``: build the outbox of a kept directory again (as this version builds it)."""
    about = json.loads((workdir / ABOUT).read_text())
    start = time.perf_counter()
    about["first_ms"], about["spacing_ms"] = build_outbox(workdir / "survey.db", about["events"])
    about["outbox_seconds"] = round(time.perf_counter() - start, 1)
    (workdir / ABOUT).write_text(json.dumps(about, indent=2))


def run(args: argparse.Namespace) -> None:
    if args.archive and args.outbox_only:
        rebuild_outbox(Path(args.archive))
    if args.archive:
        measure(args, Path(args.archive))
        return
    workdir = Path(tempfile.mkdtemp(prefix="rehab-scale-", dir=args.tmp))
    try:
        generate(args, workdir)
        # Measured from a new interpreter, as `--archive DIR` would, not beside the generator's heap.
        subprocess.run(
            [sys.executable, "-m", "bench.scale", *args.argv, "--archive", str(workdir)], check=True
        )
    finally:
        if args.keep:
            print(f"\nkept: {workdir} (measure again with --archive {workdir})")
        else:
            shutil.rmtree(workdir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate (default 1000000)")
    parser.add_argument(
        "--paths", nargs="+", choices=list(PATHS), default=list(PATHS), help="paths to measure"
    )
    parser.add_argument("--child", choices=list(PATHS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--tmp", help="directory for the temp dir (default: the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--archive", help="measure the files a --keep run left in this directory")
    parser.add_argument("--outbox-only", action="store_true", help="with --archive: build its outbox again")
    args: Any = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.child:
        child(args.child, Path(args.archive))
        return
    run(args)


if __name__ == "__main__":
    main()
