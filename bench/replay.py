"""Settlement replay benchmark (issue 4, "Speed"): prints numbers, asserts nothing.

    .venv/bin/python -m bench.replay                  # 100,000 events
    .venv/bin/python -m bench.replay --events 1000000
    .venv/bin/python -m bench.replay --profile        # and a cProfile of (c)
    .venv/bin/python -m bench.replay --keep ...       # then --archive DIR measures the same archives again

Generates N events of complete Liangjiang journeys (real contract envelopes, see bench/journeys.py),
stores them in a fresh settlement database's archive (the kernel's inbox table) in a temp dir, and
measures in a fresh interpreter (as a service or `rehab replay` runs), best of ``--repeat`` runs:

(a)  the raw rate of reading the archive and decoding JSON: sqlite3 cursor, ``json.loads`` of each
     envelope (the floor); also the same through SQLAlchemy's paged query that settlement uses;
(b)  the ``eventsourcing`` library replaying the same events into the same fee tally
     (bench/tally.py): its notification-log reader and mapper, and its process application;
(c)  rehab's full replay: ``services.settlement.ledger.replay.rebuild_ledger`` (read the fact log the live
     ledger wrote at consume time, drop the old ledger meanwhile, feed the book, insert the postings,
     build their indexes, report, commit), at N and at about N/4 (a quarter of the same journeys)
     to show whether time is linear in N; the same from the archive alone (derive the log again:
     validate every envelope and payload, translate); and the stages (read the log, + the book).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, select

from bench.journeys import archive_order, build_archive, generate
from bench.tally import FeeTally, build_library_archive, replay_with_process, replay_with_reader
from kernel.store.store import create_store_engine, inbox_table
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.fact_types import fact_of
from services.settlement.ledger import fact_log
from services.settlement.ledger.archive import archive
from services.settlement.ledger.live import feed_facts
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.report import LedgerReport
from services.settlement.ledger.tables import facts_table

T = TypeVar("T")
TARGET_RATE, TARGET_RAW_RATIO, TARGET_LIBRARY_RATIO = 300_000, 0.65, 3.0
ABOUT = "bench.json"
"""What a generated directory holds: counts, seed and how long generating and storing took."""


def timed(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Best wall time of ``repeat`` runs (garbage collector on, as in production) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


# -- (a) raw read ----------------------------------------------------------------------------------
def read_raw(path: Path) -> int:
    connection = sqlite3.connect(path)
    cursor = connection.execute("SELECT envelope FROM inbox ORDER BY position")
    count = 0
    loads = json.loads
    while rows := cursor.fetchmany(1000):
        for (text,) in rows:
            loads(text)
        count += len(rows)
    connection.close()
    return count


def read_sqlalchemy(engine: Engine) -> int:
    """The paged keyset query of settlement's archive reader, with json.loads instead of pydantic."""
    after, count = 0, 0
    with engine.connect() as connection:
        while True:
            rows = connection.execute(
                select(inbox_table.c.position, inbox_table.c.envelope)
                .where(inbox_table.c.position > after)
                .order_by(inbox_table.c.position)
                .limit(1000)
            ).all()
            if not rows:
                return count
            for _position, text in rows:
                json.loads(text)
            count += len(rows)
            after = rows[-1][0]


# -- (c) stages --------------------------------------------------------------------------------------
def stage_envelopes(engine: Engine) -> int:
    return sum(1 for _ in archive(engine))


def stage_facts(engine: Engine) -> int:
    return sum(1 for envelope in archive(engine) if fact_of(envelope) is not None)


def stage_log(engine: Engine) -> int:
    return sum(1 for _ in fact_log.read(engine, facts_table))


def stage_book(engine: Engine, policies: PolicySet) -> int:
    return len(feed_facts(fact_log.read(engine, facts_table), policies)[1])


def ledger_credits(report: LedgerReport) -> dict[str, int]:
    return {t.account: t.credit_fen for t in report.accounts if t.credit_fen}


# -- the run ---------------------------------------------------------------------------------------
class Printer:
    def __init__(self, events: int) -> None:
        self.events = events

    def rate(self, label: str, seconds: float, events: int | None = None, note: str = "") -> float:
        count = self.events if events is None else events
        per_second = count / seconds
        print(f"  {label:<58} {count:>9,} ev {seconds:8.3f} s {per_second:>11,.0f} ev/s  {note}")
        return per_second


def verdict(value: float, target: float) -> str:
    return f"(target >= {target:g}: {'met' if value >= target else 'MISSED'})"


def run(args: argparse.Namespace) -> None:
    """Generate and store the archives, then measure them in a fresh interpreter (or measure a kept one)."""
    if args.archive:
        measure(args, Path(args.archive))
        return
    workdir = Path(tempfile.mkdtemp(prefix="rehab-bench-", dir=args.tmp))
    generate_archives(args, workdir)
    # A replay runs in a service or in `rehab replay`, not beside the generator's millions of objects:
    # the same measurements in a new interpreter, as `--archive DIR` would run them.
    try:
        command = [sys.executable, "-m", "bench.replay", *args.argv, "--archive", str(workdir)]
        subprocess.run(command, check=True)
    finally:
        if args.keep:
            print(f"\nkept: {workdir} (measure again with --archive {workdir})")
        else:
            shutil.rmtree(workdir)


def generate_archives(args: argparse.Namespace, workdir: Path) -> None:
    """The archives of N events and of a quarter of the same journeys, and the library's, in ``workdir``."""
    start = time.perf_counter()
    journeys = generate(args.events, seed=args.seed)
    events = archive_order(journeys)
    small_events = archive_order(journeys[: max(1, len(journeys) // 4)])
    generated = time.perf_counter() - start
    build_archive(workdir / "settlement.db", events).dispose()
    build_archive(workdir / "settlement-quarter.db", small_events).dispose()
    library = build_library_archive(workdir / "eventsourcing.db", [envelope for envelope, _ in events])
    library.close()
    about = {
        "events": len(events),
        "small_events": len(small_events),
        "journeys": len(journeys),
        "seed": args.seed,
        "generated_seconds": round(generated, 1),
        "stored_seconds": round(time.perf_counter() - start - generated, 1),
    }
    (workdir / ABOUT).write_text(json.dumps(about, indent=2))


def measure(args: argparse.Namespace, workdir: Path) -> None:
    about = json.loads((workdir / ABOUT).read_text())
    policies = load_policies()
    liangjiang = policies.in_force("liangjiang", date(2024, 10, 1))
    assert liangjiang is not None
    fees = liangjiang.fees
    engine = create_store_engine(f"sqlite:///{workdir / 'settlement.db'}")
    small_engine = create_store_engine(f"sqlite:///{workdir / 'settlement-quarter.db'}")
    n, small_n = about["events"], about["small_events"]
    size_mb = (workdir / "settlement.db").stat().st_size / 1e6
    print(
        f"rehab settlement replay benchmark: {n:,} events of {about['journeys']:,} journeys "
        f"(generated in {about['generated_seconds']} s, stored in {about['stored_seconds']} s; "
        f"archive {size_mb:.0f} MB in {workdir})"
    )
    print(f"python {sys.version.split()[0]}, best of {args.repeat} run(s), measured in a fresh interpreter\n")
    out = Printer(n)

    print("(a) raw: read the archive and decode JSON")
    seconds, count = timed(lambda: read_raw(workdir / "settlement.db"), args.repeat)
    assert count == n
    raw = out.rate("sqlite3 fetchmany(1000) + json.loads      [= (a)]", seconds)
    seconds, _ = timed(lambda: read_sqlalchemy(engine), args.repeat)
    out.rate("SQLAlchemy paged query (settlement's) + json.loads", seconds)

    print("(b) eventsourcing library: the same events into the same fee tally")
    seconds, tally = timed(lambda: replay_with_reader(workdir / "eventsourcing.db", fees), args.repeat)
    assert tally.events == n
    library_rate = out.rate("NotificationLogReader + Mapper + tally       [= (b)]", seconds)
    process_n = min(n, args.process_events)

    def process_run() -> FeeTally:
        (workdir / "process.db").unlink(missing_ok=True)
        return replay_with_process(workdir / "eventsourcing.db", workdir / "process.db", fees, process_n)

    seconds, _ = timed(process_run, 1)
    out.rate(
        "ProcessApplication.pull_and_process (tracking/event)",
        seconds,
        process_n,
        "(first events only)" if process_n < n else "",
    )

    print("(c) rehab: full replay into the ledger")
    seconds, report = timed(lambda: rebuild_ledger(engine, policies), args.repeat)
    rehab = out.rate("rebuild_ledger                               [= (c)]", seconds)
    small_seconds, _ = timed(lambda: rebuild_ledger(small_engine, policies), args.repeat)
    small_rate = out.rate("rebuild_ledger at ~N/4 (a quarter of the journeys)", small_seconds, small_n)
    seconds, _ = timed(lambda: rebuild_ledger(engine, policies, source="archive"), args.repeat)
    out.rate("rebuild_ledger(source='archive'): from the archive alone", seconds)
    print("    stages (in memory, cumulative):")
    for label, stage in (
        ("fact log: read + json.loads + facts", lambda: stage_log(engine)),
        ("  + SettlementBook.feed: postings (feed_facts)", lambda: stage_book(engine, policies)),
        ("archive(): read + EventEnvelope.model_validate_json", lambda: stage_envelopes(engine)),
        ("  + fact_of(): parse_payload + translation", lambda: stage_facts(engine)),
    ):
        seconds, _ = timed(stage, args.repeat)
        out.rate(label, seconds)
    same = ledger_credits(report) == tally.credits
    print(
        f"    postings {report.posting_count:,}, balanced: {'yes' if report.balanced else 'NO'}; "
        f"same payee totals as the library's tally: {'yes' if same else 'NO'}"
    )

    print("\nratios and targets (2-core machine)")
    print(f"  (c)             {rehab:>11,.0f} ev/s  {verdict(rehab, TARGET_RATE)}")
    print(f"  (c)/(a)         {rehab / raw:11.2f}       {verdict(rehab / raw, TARGET_RAW_RATIO)}")
    library_ratio = rehab / library_rate
    print(f"  (c)/(b)         {library_ratio:11.2f}       {verdict(library_ratio, TARGET_LIBRARY_RATIO)}")
    growth = (seconds_per_event(rehab) / seconds_per_event(small_rate)) if small_rate else 0.0
    print(f"  linearity: time per event at N / at N/4 = {growth:.2f} (1.00 = linear)")

    if args.profile:
        profile_rebuild(engine, policies, args.profile_lines)


def seconds_per_event(rate: float) -> float:
    return 1 / rate


def profile_rebuild(engine: Engine, policies: PolicySet, lines: int) -> None:
    print(f"\ncProfile of rebuild_ledger (top {lines} by own time)")
    profiler = cProfile.Profile()
    profiler.enable()
    rebuild_ledger(engine, policies)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events to generate (default 100000)")
    parser.add_argument("--repeat", type=int, help="runs per measurement, best kept (default 3; 1 from 500k)")
    parser.add_argument(
        "--process-events",
        type=int,
        default=100_000,
        help="events the library's process application replays (slow; default 100000)",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--tmp", help="directory for the temp dir (default: the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--archive", help="measure the databases a --keep run left in this directory")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of (c)")
    parser.add_argument("--profile-lines", type=int, default=30)
    args: Any = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.repeat is None:
        args.repeat = 3 if args.events < 500_000 else 1
    run(args)


if __name__ == "__main__":
    main()
