"""Settlement replay benchmark (issues 4, 16 and 17): prints numbers, asserts nothing.

    .venv/bin/python -m bench.replay                  # 200,000 events (and a quarter of them)
    .venv/bin/python -m bench.replay --events 1000000
    .venv/bin/python -m bench.replay --profile        # and a cProfile of rehab replay
    .venv/bin/python -m bench.replay --keep ...       # then --archive DIR measures the same archives again

Generates N events of complete Liangjiang journeys (real contract envelopes, see bench/journeys.py),
stores them in a fresh settlement database's archive (the kernel's inbox table) in a temp dir, and
measures each path in a fresh interpreter of its own (as a service or `rehab replay` runs it), so each
has its own peak RSS; every round runs the baseline (a) and each rehab path back to back, at N and at
about N/4 (a quarter of the same journeys), and the table gives the medians of ``--rounds`` rounds:

(a)  baseline: reading the archive and decoding JSON, sqlite3 cursor and ``json.loads`` of each
     envelope (the floor);
(c)  rehab replay: ``rebuild_ledger`` (read the fact log the live ledger wrote at consume time, settle it
     person by person, drop the old ledger, insert the postings in batches, build their indexes,
     report, commit); ``--as-of`` (``totals_as_of``: every archived envelope validated, totals folded
     person by person); ``--policy`` (``replay_under``, the same under the policy in force); and the
     settlement's start-up and the live ledger's books of 20,000 persons built from the log (``live``);
(b)  the ``eventsourcing`` library replaying the same events into the same fee tally (bench/tally.py),
     its notification-log reader and mapper, in this interpreter, once.

Peak memory independent of N shows as the same peak RSS at N and at N/4.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from bench.journeys import archive_order, build_archive, generate
from bench.tally import build_library_archive, replay_with_reader
from kernel.store.store import create_store_engine, inbox_table
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.ledger.as_of import totals_as_of
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.what_if import replay_under

TARGET_RATE, TARGET_RAW_RATIO, TARGET_LIBRARY_RATIO = 300_000, 0.65, 3.0
ABOUT = "bench.json"
"""What a generated directory holds: counts, seed and how long generating and storing took."""


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


PATHS = {
    "raw": "(a) archive read + json.loads (sqlite3)",
    "replay": "(c) rehab replay (rebuild_ledger)",
    "as-of": "    rehab replay --as-of (totals_as_of)",
    "policy": "    rehab replay --policy (replay_under)",
    "live": "    settlement start-up + 20,000 persons' books",
}


def run_path(path: str, database: Path) -> int:
    """One path over one archive, in this interpreter; returns the events it went through."""
    policies = load_policies()
    engine = create_store_engine(f"sqlite:///{database}")
    if path == "raw":
        return read_raw(database)
    if path == "replay":
        rebuild_ledger(engine, policies)
    elif path == "as-of":
        return totals_as_of(engine, date(2099, 12, 31), policies).events
    elif path == "policy":
        policy = policies.in_force("liangjiang", date(2024, 10, 1))
        assert policy is not None
        return replay_under(engine, policy, policies).events
    elif path == "live":
        return int(live_start(engine, policies)["events"])
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(inbox_table)) or 0


LIVE_PERSONS = 20_000
"""Persons whose books the ``live`` path builds from the log (as their next events would)."""


def live_start(engine: Engine, policies: Any) -> dict[str, Any]:
    """What settlement does before it consumes (the unsettled items written once from the log, on a store
    that never had them), then the books of ``LIVE_PERSONS`` persons spread over the archive built from
    their logged facts, as each person's next event would: memory holds ``PERSONS_KEPT`` books."""
    from services.settlement.ledger import unsettled
    from services.settlement.ledger.live import LiveLedger
    from services.settlement.ledger.replay import build_unsettled
    from services.settlement.ledger.tables import facts_table

    start = time.perf_counter()
    items = build_unsettled(engine, policies) if not unsettled.is_built(engine) else None
    started = time.perf_counter() - start
    ledger = LiveLedger(policies)
    with engine.connect() as connection:
        events = connection.scalar(select(func.count()).select_from(inbox_table))
        persons = connection.scalar(select(func.count(facts_table.c.person.distinct()))) or 0
        step = max(1, persons // LIVE_PERSONS)
        chosen = connection.scalars(
            select(facts_table.c.person)
            .where(facts_table.c.person.is_not(None))
            .distinct()
            .order_by(facts_table.c.person)
        )
        wanted = [person for index, person in enumerate(chosen) if index % step == 0][:LIVE_PERSONS]
        start = time.perf_counter()
        built = ledger.warm(connection, wanted)
        loading = time.perf_counter() - start
    return {
        "events": events,
        "start_up_seconds": round(started, 2),
        "unsettled_written": items,
        "books_built": built,
        "ms_per_book": round(1000 * loading / max(built, 1), 3),
        "books_kept": len(ledger.kept_persons()),
    }


def child(path: str, database: Path) -> None:
    """``--child``: time one path and print its seconds (wall clock and CPU), events and peak RSS as JSON."""
    start, cpu_start = time.perf_counter(), time.process_time()
    events = run_path(path, database)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "events": events, "peak_mb": peak_mb}))


def in_child(path: str, database: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.replay", "--child", path, "--archive", str(database)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    measured: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return measured


def measure(args: argparse.Namespace, workdir: Path) -> None:
    about = json.loads((workdir / ABOUT).read_text())
    n, small_n = about["events"], about["small_events"]
    size_mb = (workdir / "settlement.db").stat().st_size / 1e6
    print(
        f"rehab settlement replay benchmark: {n:,} events of {about['journeys']:,} journeys "
        f"(generated in {about['generated_seconds']} s, stored in {about['stored_seconds']} s; "
        f"archive {size_mb:.0f} MB in {workdir})"
    )
    print(
        f"python {sys.version.split()[0]}, median of {args.rounds} round(s), each path in a fresh "
        f"interpreter; load average before: {os.getloadavg()[0]:.1f}\n"
    )
    archives = {"N": workdir / "settlement.db", "N/4": workdir / "settlement-quarter.db"}
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _round in range(args.rounds):
        for size, database in archives.items():
            for path in args.paths:
                runs.setdefault((path, size), []).append(in_child(path, database))
    print_table(runs, args.paths, {"N": n, "N/4": small_n})
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    if args.library:
        measure_library(args, workdir, n, runs)
    if args.profile:
        profile_rebuild(
            create_store_engine(f"sqlite:///{archives['N']}"), load_policies(), args.profile_lines
        )


def print_table(
    runs: dict[tuple[str, str], list[dict[str, float]]], paths: list[str], events: dict[str, int]
) -> None:
    print(
        f"  {'path':<42} {'size':>4} {'events':>9} {'seconds':>8} {'ev/s':>9} {'/ (a)':>6} "
        f"{'CPU s':>6} {'/ (a)':>6} {'peak RSS':>9}"
    )
    for path in paths:
        for size, count in events.items():
            measured, baseline = runs[path, size], runs["raw", size]
            seconds = statistics.median(run["seconds"] for run in measured)
            cpu_seconds = statistics.median(run["cpu_seconds"] for run in measured)
            peak = max(run["peak_mb"] for run in measured)
            print(
                f"  {PATHS[path]:<42} {size:>4} {count:>9,} {seconds:8.2f} {count / seconds:>9,.0f} "
                f"{_ratio(measured, baseline, 'seconds'):6.2f} {cpu_seconds:6.2f} "
                f"{_ratio(measured, baseline, 'cpu_seconds'):6.2f} {peak:>6.0f} MB"
            )


def _ratio(measured: list[dict[str, float]], baseline: list[dict[str, float]], clock: str) -> float:
    """The median of each round's ratio to the baseline (a) of the same round, by ``clock``."""
    return statistics.median(raw[clock] / run[clock] for run, raw in zip(measured, baseline, strict=True))


def measure_library(
    args: argparse.Namespace, workdir: Path, n: int, runs: dict[tuple[str, str], list[dict[str, float]]]
) -> None:
    policies = load_policies()
    liangjiang = policies.in_force("liangjiang", date(2024, 10, 1))
    assert liangjiang is not None
    print("\n(b) eventsourcing library: the same events into the same fee tally, in this interpreter, once")
    start, cpu_start = time.perf_counter(), time.process_time()
    tally = replay_with_reader(workdir / "eventsourcing.db", liangjiang.fees)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    assert tally.events == n
    print(
        f"  NotificationLogReader + Mapper + tally: {seconds:.2f} s, {n / seconds:,.0f} ev/s "
        f"(CPU {cpu_seconds:.2f} s, {n / cpu_seconds:,.0f} ev/s)"
    )
    if ("replay", "N") in runs:
        replays, baseline = runs["replay", "N"], runs["raw", "N"]
        print("\nratios and targets (2-core machine, shared; by wall clock, then by CPU time)")
        for clock, library_seconds in (("seconds", seconds), ("cpu_seconds", cpu_seconds)):
            rehab_rate = n / statistics.median(run[clock] for run in replays)
            ratio = _ratio(replays, baseline, clock)  # as in the table
            library_ratio = rehab_rate / (n / library_seconds)
            label = "wall" if clock == "seconds" else "CPU"
            print(f"  (c) {label:<4}        {rehab_rate:>11,.0f} ev/s  {verdict(rehab_rate, TARGET_RATE)}")
            print(f"  (c)/(a) {label:<4}    {ratio:11.2f}       {verdict(ratio, TARGET_RAW_RATIO)}")
            library_verdict = verdict(library_ratio, TARGET_LIBRARY_RATIO)
            print(f"  (c)/(b) {label:<4}    {library_ratio:11.2f}       {library_verdict}")


def profile_rebuild(engine: Engine, policies: PolicySet, lines: int) -> None:
    print(f"\ncProfile of rehab replay, rebuild_ledger at N (top {lines} by own time)")
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
    parser.add_argument("--events", type=int, default=200_000, help="events to generate (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, medians kept (default 3)")
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=list(PATHS),
        default=list(PATHS),
        help="paths to measure",
    )
    parser.add_argument("--no-library", dest="library", action="store_false", help="skip (b)")
    parser.add_argument("--child", choices=list(PATHS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--tmp", help="directory for the temp dir (default: the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--archive", help="measure the databases a --keep run left in this directory")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of (c)")
    parser.add_argument("--profile-lines", type=int, default=30)
    args: Any = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.child:
        child(args.child, Path(args.archive))
        return
    if "raw" not in args.paths:
        args.paths.insert(0, "raw")
    run(args)


if __name__ == "__main__":
    main()
