"""The live paths beside their baselines, measured in the same run: `python -m bench.live`.

Each path runs interleaved with its baseline (rehab, baseline, rehab, baseline, ...), the median of
``--rounds`` (default 3) is printed with the ratio and the load average at the end of the path; one
row per row of issue 17's table:

* settlement consuming a backlog of ``--events`` events (real journeys, signed by their producers,
  staged on streams of their own and renamed into place at once, timed until its group acknowledged them
  all, asked of Redis) against a bare FastStream ``StreamSub(batch=True)`` consumer reading and XACKing
  the same entries on a stream of its own, and against the same consumer checking each signature (ADR
  0022); with the CPU time per event of each (less disturbed by the machine's other load than the wall
  clock);
* the outbox relay, commit -> XADD, of ``--events`` committed events (signed, as deployed) against
  redis-py XADD pipelined by 200 of the same entries, and against the same XADD signing each entry as it
  adds it (the floor of any relay that signs as it publishes); with the CPU time per event of each;
* survey commands (register a person) with 1 and 16 clients against FastAPI + one SQLite insert per
  request (p50 and p99 latency);
* survey's sheet import of ``--rows`` rows against openpyxl reading the same sheet (bench.import_sheet);
* end to end: persons registered and surveyed at ``--persons-per-second`` for ``--seconds`` (open
  loop), the rate reached and the latency from each survey command to settlement's commit of the event
  and its posting (seen in its inbox by a read-only connection), against XADD -> XREADGROUP at the
  same rate;
* replay: ``bench.replay`` of ``--replay-events`` events, its own table passed through.

Redis and the services start as the tests start them (``rehab.local_redis``, ``rehab.processes``).
The machine is shared: compare ratios, not absolute rates. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope, parse_payload

from bench import import_sheet
from bench.end_to_end import CommitWatch, bare_end_to_end, percentile, rehab_end_to_end
from bench.journeys import archive_order, generate
from kernel.messaging.consumer import DEFAULT_MAX_RECORDS
from kernel.messaging.dead_letters import as_text
from kernel.messaging.relay import OutboxRelay
from kernel.messaging.signing import KeyRing, canonical_bytes
from kernel.runtime import ServiceSettings, batch_size
from kernel.store.store import EventStore, NewEvent, create_store_engine
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import ServiceProcesses
from rehab.sample_people import SamplePerson, sample_people

PATHS = ("settlement", "relay", "commands", "import", "end-to-end", "replay")
QUIET = logging.getLogger("bench.live.faststream")
SETTLEMENT_READS = batch_size(ServiceSettings(service="settlement")) or DEFAULT_MAX_RECORDS
"""Entries settlement's consumer reads at a time (deploy/services.toml): the baselines read as many."""
QUIET.disabled = True

Row = tuple[str, float, float, str]
"""(path, rehab's rate, the baseline's rate, unit)."""


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


# -- (a) settlement consuming a backlog -------------------------------------------------------------
def signed_backlog(events: int, seed: int, keys: Path) -> list[tuple[str, dict[str, str]]]:
    """(stream, wire fields) of whole journeys, in the order settlement receives them, each signed."""
    rings: dict[str, KeyRing] = {}
    backlog = []
    for envelope, stream in archive_order(generate(events, seed))[:events]:
        ring = rings.setdefault(envelope.producer, KeyRing.from_directory(keys, envelope.producer))
        backlog.append((stream, ring.sign(envelope).to_wire()))
    return backlog


async def xadd_all(redis: Redis, entries: list[tuple[str, dict[str, str]]]) -> dict[str, str]:
    """XADD the entries, pipelined by 500; the last id added to each stream."""
    last_ids: dict[str, str] = {}
    for start in range(0, len(entries), 500):
        batch = entries[start : start + 500]
        async with redis.pipeline(transaction=False) as pipe:
            for stream, fields in batch:
                pipe.xadd(stream, fields)  # type: ignore[arg-type]
            ids = await pipe.execute()
        last_ids.update({stream: as_text(entry_id) for (stream, _), entry_id in zip(batch, ids, strict=True)})
    return last_ids


async def settled(redis: Redis, group: str, last_ids: dict[str, str]) -> bool:
    """Whether ``group`` has read and acknowledged every entry up to ``last_ids`` on each stream: asked of
    Redis (XINFO GROUPS), not of the service, so measuring adds no work to the process measured."""
    for stream, last_id in last_ids.items():
        for info in await redis.xinfo_groups(stream):
            if as_text(info["name"]) != group:
                continue
            delivered = tuple(int(part) for part in as_text(info["last-delivered-id"]).split("-"))
            if info["pending"] or delivered < tuple(int(part) for part in last_id.split("-")):
                return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rehab_settlement(
    redis: Redis, services: ServiceProcesses, backlog: list[tuple[str, dict[str, str]]]
) -> tuple[float, float]:
    """The backlog XADDed to streams of its own, settlement's group at their start, then put in place of
    settlement's streams at once (RENAME, in one MULTI); timed from then until its group has acknowledged
    every entry (applied, parked or dead-lettered); (events/s, CPU µs per event).

    Settlement keeps running meanwhile: stopping it (SIGSTOP) while a large backlog was XADDed outlasted
    its Redis socket timeout, and the read Redis had answered in between was lost to the pending list
    until reclaim (30 s; ADR 0022)."""
    process = services.processes["settlement"]
    staged = {stream: f"{stream}.bench-staged" for stream in dict.fromkeys(stream for stream, _ in backlog)}
    for staging in staged.values():
        await redis.delete(staging)
        await redis.xgroup_create(staging, "settlement", id="0", mkstream=True)
    last_staged = await xadd_all(redis, [(staged[stream], fields) for stream, fields in backlog])
    async with redis.pipeline(transaction=True) as swap:
        for stream, staging in staged.items():
            swap.rename(staging, stream)
        began, cpu = time.perf_counter(), cpu_seconds(process.pid)
        await swap.execute()
    last_ids = {stream: last_staged[staging] for stream, staging in staged.items()}
    while not await settled(redis, "settlement", last_ids):
        await asyncio.sleep(0.01)
    seconds, cpu = time.perf_counter() - began, cpu_seconds(process.pid) - cpu
    return len(backlog) / seconds, cpu / len(backlog) * 1e6


async def bare_batch_consumer(
    redis_url: str,
    backlog: list[tuple[str, dict[str, str]]],
    round_: int,
    keyring: KeyRing | None = None,
) -> tuple[float, float]:
    """FastStream's own batch subscriber reading and XACKing the same entries, XADDed before it starts;
    (events/s, CPU µs per event of this process, which does nothing else meanwhile). With a ``keyring``
    it also checks each entry's signature (the envelope decoded, its canonical bytes, Ed25519), as
    settlement must: the floor of a consumer that verifies every event."""
    stream = f"bench.baseline.{round_}.{'verifying' if keyring else 'bare'}"
    redis = Redis.from_url(redis_url)
    await redis.xgroup_create(stream, "bench", id="0", mkstream=True)
    await xadd_all(redis, [(stream, fields) for _stream, fields in backlog])
    broker = RedisBroker(redis_url, logger=QUIET)
    done = asyncio.Event()
    seen = 0

    @broker.subscriber(
        stream=StreamSub(
            stream,
            group="bench",
            consumer="bench-1",
            batch=True,
            max_records=SETTLEMENT_READS,  # the same reads as settlement's
            last_id=">",
            polling_interval=10,
        )
    )
    async def on_batch(message: RedisBatchStreamMessage) -> None:
        nonlocal seen
        entries = message.raw_message["data"]
        if keyring is not None:
            for fields in entries:
                keyring.verify(EventEnvelope.from_wire(fields), recheck=False)
        seen += len(entries)
        await message.ack()
        if seen >= len(backlog):
            done.set()

    began, cpu = time.perf_counter(), time.process_time()
    await broker.start()
    await done.wait()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    await broker.stop()
    await redis.aclose()
    return len(backlog) / seconds, cpu / len(backlog) * 1e6


async def settlement_path(args: argparse.Namespace, redis_url: str, services: ServiceProcesses) -> list[Row]:
    """Two rows: settlement against the bare consumer (the issue's baseline), and against the same consumer
    checking every signature (what no consumer that verifies can go below: ADR 0022)."""
    redis = Redis.from_url(redis_url)
    keyring = KeyRing.from_directory(services.signing_keys)
    rehab, bare, verifying = [], [], []
    for round_ in range(args.rounds):
        backlog = signed_backlog(args.events, seed=1000 + round_, keys=services.signing_keys)
        rehab.append(await rehab_settlement(redis, services, backlog))
        bare.append(await bare_batch_consumer(redis_url, backlog, round_))
        verifying.append(await bare_batch_consumer(redis_url, backlog, round_, keyring))
    await redis.aclose()
    cpu = {
        name: median([run[1] for run in runs])
        for name, runs in (("rehab", rehab), ("bare", bare), ("verifying", verifying))
    }
    rate = {
        name: median([run[0] for run in runs])
        for name, runs in (("rehab", rehab), ("bare", bare), ("verifying", verifying))
    }
    return [
        (
            "settlement consuming a backlog",
            rate["rehab"],
            rate["bare"],
            f"events/s; CPU µs per event rehab {cpu['rehab']:.0f}, baseline {cpu['bare']:.0f} "
            f"(by CPU {cpu['bare'] / cpu['rehab']:.3f})",
        ),
        (
            "the same, against a consumer that verifies each signature",
            rate["rehab"],
            rate["verifying"],
            f"events/s; CPU µs per event rehab {cpu['rehab']:.0f}, baseline {cpu['verifying']:.0f} "
            f"(by CPU {cpu['verifying'] / cpu['rehab']:.3f})",
        ),
    ]


# -- (b) the outbox relay ---------------------------------------------------------------------------
def committed_store(folder: Path, events: list[EventEnvelope]) -> EventStore:
    """A survey store holding the events (re-appended as survey's own), none published yet."""
    store = EventStore(create_store_engine(f"sqlite:///{folder / 'relay.db'}"), "survey")
    store.create_schema()
    versions: dict[str, int] = {}
    with store.transaction() as unit:
        for envelope in events:
            version = versions.get(envelope.stream_id, 0)
            unit.append(
                envelope.stream_id, version, [NewEvent(parse_payload(envelope), envelope.occurred_at)]
            )
            versions[envelope.stream_id] = version + 1
    return store


async def rehab_relay(redis: Redis, store: EventStore, keyring: KeyRing, stream: str) -> tuple[float, float]:
    """The relay publishing the store's backlog; (events/s, CPU µs per event of this process, its
    threads included: the relay reads and marks the outbox in worker threads)."""
    relay = OutboxRelay(store, redis, stream, keyring=keyring)
    began, cpu = time.perf_counter(), time.process_time()
    published = await relay.publish_pending()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return published / seconds, cpu / published * 1e6


async def pipelined_xadd(
    redis: Redis, store: EventStore, keyring: KeyRing, stream: str, *, signing: bool = False
) -> tuple[float, float]:
    """redis-py XADD pipelined by 200 of the same entries, signed beforehand; (events/s, CPU µs per event).

    ``signing``: each entry's canonical bytes are signed (Ed25519) as it is added, the entries and their
    canonical bytes made beforehand: the floor of any relay that signs events as it publishes them.
    """
    signed = [keyring.sign(event.envelope) for event in store.read()]
    entries = [envelope.to_wire() for envelope in signed]
    canonical = [canonical_bytes(envelope) for envelope in signed]
    signing_key = keyring.current_signing_key()
    began, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(entries), 200):
        async with redis.pipeline(transaction=False) as pipe:
            for index in range(start, min(start + 200, len(entries))):
                if signing:
                    signing_key.key.sign(canonical[index])
                pipe.xadd(stream, entries[index])  # type: ignore[arg-type]
            await pipe.execute()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return len(entries) / seconds, cpu / len(entries) * 1e6


async def relay_path(args: argparse.Namespace, redis_url: str, keys: Path, folder: Path) -> list[Row]:
    """Two rows: the relay against pipelined XADD (the issue's baseline), and against the same XADD
    signing every entry (what no relay that signs as it publishes can go above)."""
    redis = Redis.from_url(redis_url)
    keyring = KeyRing.from_directory(keys, "survey")
    runs: dict[str, list[tuple[float, float]]] = {"rehab": [], "bare": [], "signing": []}
    for round_ in range(args.rounds):
        envelopes = [envelope for envelope, _stream in archive_order(generate(args.events, 2000 + round_))]
        round_folder = folder / f"relay-{round_}"
        round_folder.mkdir()
        store = await asyncio.to_thread(committed_store, round_folder, envelopes[: args.events])
        runs["rehab"].append(await rehab_relay(redis, store, keyring, f"bench.relay.{round_}"))
        runs["bare"].append(await pipelined_xadd(redis, store, keyring, f"bench.xadd.{round_}"))
        runs["signing"].append(
            await pipelined_xadd(redis, store, keyring, f"bench.signing.{round_}", signing=True)
        )
        store.engine.dispose()
    await redis.aclose()
    rate = {name: median([run[0] for run in results]) for name, results in runs.items()}
    cpu = {name: median([run[1] for run in results]) for name, results in runs.items()}
    names = {"bare": "outbox relay, commit -> XADD", "signing": "outbox relay, against XADD signing"}
    return [
        (
            name,
            rate["rehab"],
            rate[baseline],
            f"events/s; CPU µs per event rehab {cpu['rehab']:.0f}, baseline {cpu[baseline]:.0f} "
            f"(by CPU {cpu[baseline] / cpu['rehab']:.3f})",
        )
        for baseline, name in names.items()
    ]


# -- (c) survey commands ----------------------------------------------------------------------------
BASELINE_APP = textwrap.dedent(
    """
    import json, sqlite3, sys, threading, uuid
    from fastapi import FastAPI, Request
    import uvicorn

    connection = sqlite3.connect(sys.argv[1], check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS persons (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    lock = threading.Lock()
    app = FastAPI()

    @app.post("/persons", status_code=201)
    def register(body: dict) -> dict:
        person_id = str(uuid.uuid4())
        with lock:
            connection.execute("INSERT INTO persons VALUES (?, ?)", (person_id, json.dumps(body)))
        return {"person_id": person_id}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


async def drive(url: str, bodies: list[dict[str, object]], clients: int) -> tuple[float, float, float]:
    """(commands/s, p50 ms, p99 ms) of POST /persons, ``clients`` at a time."""
    latencies: list[float] = []
    queue = list(reversed(bodies))

    async def client(http: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            began = time.perf_counter()
            response = await http.post(url + "/persons", json=body)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - began
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(bodies) / seconds, p50, p99


def wait_answering(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def commands_path(args: argparse.Namespace, services: ServiceProcesses, folder: Path) -> list[Row]:
    port = free_port()
    baseline = subprocess.Popen(
        [sys.executable, "-c", BASELINE_APP, str(folder / "baseline.db"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: list[Row] = []
    try:
        base_url = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_answering, base_url)
        people = iter(sample_people(args.commands * args.rounds * 4, 2025, seed=7))
        for clients in (1, 16):
            results: dict[str, list[tuple[float, float, float, float]]] = {"rehab": [], "base": []}
            servers = {"rehab": (services.url("survey"), services.processes["survey"].pid)}
            servers["base"] = (base_url, baseline.pid)
            for _round in range(args.rounds):
                for name, (url, pid) in servers.items():
                    bodies = [
                        {**next(people).registration, "registered_on": "2025-03-01"}
                        for _ in range(args.commands)
                    ]
                    cpu = cpu_seconds(pid)
                    driven = await drive(url, bodies, clients)
                    results[name].append((*driven, (cpu_seconds(pid) - cpu) / len(bodies) * 1000))
            rows.append(_command_row(clients, results))
    finally:
        baseline.terminate()
        baseline.wait(timeout=10)
    return rows


def _command_row(clients: int, results: dict[str, list[tuple[float, float, float, float]]]) -> Row:
    rate = {name: median([r[0] for r in runs]) for name, runs in results.items()}
    p50 = {name: median([r[1] for r in runs]) for name, runs in results.items()}
    p99 = {name: median([r[2] for r in runs]) for name, runs in results.items()}
    cpu = {name: median([r[3] for r in runs]) for name, runs in results.items()}
    unit = (
        f"commands/s; p50/p99 ms rehab {p50['rehab']:.0f}/{p99['rehab']:.0f}, "
        f"baseline {p50['base']:.0f}/{p99['base']:.0f}; server CPU ms per command rehab "
        f"{cpu['rehab']:.2f}, baseline {cpu['base']:.2f}"
    )
    return (
        f"survey commands, {clients} client{'s' if clients > 1 else ''}",
        rate["rehab"],
        rate["base"],
        unit,
    )


# -- (d) sheet import ------------------------------------------------------------------------------
async def import_path(args: argparse.Namespace) -> Row:
    """``POST /imports/surveys`` of a generated sheet against openpyxl reading it (bench.import_sheet)."""
    content = await asyncio.to_thread(import_sheet.sheet_bytes, args.rows)
    rehab, base = [], []
    for _round in range(args.rounds):
        seconds, _cpu, read = await asyncio.to_thread(import_sheet.openpyxl_read, content)
        base.append(read / seconds)
        seconds, _cpu, imported = await asyncio.to_thread(import_sheet.rehab_import, content)
        rehab.append(imported / seconds)
    return (f"sheet import, {args.rows:,} rows", median(rehab), median(base), "rows/s")


# -- (e) end to end: survey command -> posting (bench.end_to_end) ----------------------------------
def unregistered(sample: list[SamplePerson], taken: int) -> list[SamplePerson]:
    """The sample after its first ``taken`` persons (the commands path's), without a person whose ID number
    an earlier one has: random birthdays and an order number of 500 give a few twins in tens of thousands,
    which survey rightly refuses to register twice."""
    seen = {str(person.registration["id_number"]) for person in sample[:taken]}
    fresh = []
    for person in sample[taken:]:
        number = str(person.registration["id_number"])
        if number not in seen:
            seen.add(number)
            fresh.append(person)
    return fresh


async def end_to_end_path(args: argparse.Namespace, redis_url: str, services: ServiceProcesses) -> Row:
    url = services.url("survey")
    taken = args.commands * args.rounds * 4  # the persons the commands path may have registered
    wanted = int(args.persons_per_second * args.seconds * args.rounds) + 10
    people = iter(unregistered(sample_people(taken + wanted * 2, 2025, seed=7), taken))
    rehab, base = [], []
    for round_ in range(args.rounds):
        with CommitWatch(services.var_dir / "settlement.db") as watch:
            rehab.append(await rehab_end_to_end(args, url, people, watch))
        base.append(await bare_end_to_end(args, redis_url, round_))
    p50 = {
        name: median([percentile(r[1], 0.5) for r in runs])
        for name, runs in (("rehab", rehab), ("base", base))
    }
    p99 = {
        name: median([percentile(r[1], 0.99) for r in runs])
        for name, runs in (("rehab", rehab), ("base", base))
    }
    missing = max(sum(math.isinf(latency) for latency in run[1]) for run in rehab)
    unit = (
        f"persons/s of {args.persons_per_second:g} offered for {args.seconds:g} s"
        f"{f' ({missing} never reached settlement in a round)' if missing else ''}; survey command -> "
        f"posting p50/p99 ms rehab {p50['rehab']:.0f}/{p99['rehab']:.0f}, "
        f"bare XADD -> XREADGROUP {p50['base']:.2f}/{p99['base']:.2f}"
    )
    rates = [median([run[0] for run in runs]) for runs in (rehab, base)]
    return ("end to end, survey command -> posting", rates[0], rates[1], unit)


# -- (f) replay ---------------------------------------------------------------------------------------
async def replay_path(args: argparse.Namespace) -> list[Row]:
    """``bench.replay`` in its own interpreter (it owns its table); its lines are passed through."""
    command = [sys.executable, "-m", "bench.replay", "--events", str(args.replay_events)]
    command += ["--rounds", str(args.rounds), "--no-library"]
    finished = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=False)
    for line in finished.stdout.splitlines():
        print(f"    replay: {line}", flush=True)
    if finished.returncode:
        print(
            f"    replay: bench.replay failed ({finished.returncode}): {finished.stderr[-2000:]}", flush=True
        )
    return []


# -- the run ------------------------------------------------------------------------------------------
async def timed_path(rows: list[tuple[Row, str]], run: Callable[[], Awaitable[Row | list[Row]]]) -> None:
    result = await run()
    for row in result if isinstance(result, list) else [result]:
        rows.append((row, load()))
        print_row(row, load())


def print_row(row: Row, load_average: str) -> None:
    path, rehab, base, unit = row
    ratio = rehab / base if base else 0.0
    print(f"| {path} | {rehab:,.0f} | {base:,.0f} | {ratio:.3f} | {load_average} | {unit} |", flush=True)


async def run(args: argparse.Namespace, folder: Path) -> None:
    redis_server = LocalRedis(folder / "redis", free_port()).start()
    services = ServiceProcesses(
        folder / "var",
        redis_server.url,
        ports={service: free_port() for service in ("survey", "settlement")},
        services=("survey", "settlement"),
        env={"REHAB_SQLITE_BUSY_SECONDS": "30"},
    )
    rows: list[tuple[Row, str]] = []
    try:
        services.start()
        print(f"events {args.events}, commands {args.commands}, rounds {args.rounds}; median of the rounds")
        print("| path | rehab | baseline | ratio | load average (1 5 15 min) | unit |")
        print("|---|---|---|---|---|---|")
        if "settlement" in args.paths:
            await timed_path(rows, lambda: settlement_path(args, redis_server.url, services))
        if "relay" in args.paths:
            await timed_path(rows, lambda: relay_path(args, redis_server.url, services.signing_keys, folder))
        if "commands" in args.paths:
            await timed_path(rows, lambda: commands_path(args, services, folder))
        if "import" in args.paths:
            await timed_path(rows, lambda: import_path(args))
        if "end-to-end" in args.paths:
            await timed_path(rows, lambda: end_to_end_path(args, redis_server.url, services))
        if "replay" in args.paths:
            await timed_path(rows, lambda: replay_path(args))
    finally:
        services.stop()
        redis_server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="backlog and relay events per round")
    parser.add_argument(
        "--commands", type=int, default=300, help="survey commands per round and client count"
    )
    parser.add_argument("--rows", type=int, default=5000, help="rows of the imported sheet")
    parser.add_argument("--persons-per-second", type=float, default=100, help="end to end: persons offered")
    parser.add_argument("--seconds", type=float, default=20, help="end to end: for how long (the target: 60)")
    parser.add_argument("--replay-events", type=int, default=50_000, help="events bench.replay generates")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paths", nargs="*", choices=PATHS, default=list(PATHS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rehab-bench-") as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
