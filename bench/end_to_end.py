"""End to end, survey command -> posting, for ``bench.live``: persons registered and surveyed at a fixed
rate (open loop) while settlement's commits are watched, and the transport's floor at the same rate."""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from rehab.sample_people import SamplePerson


class CommitWatch:
    """When each event id first shows in settlement's inbox, seen by a read-only connection: the commit
    of the transaction that archived it and wrote its postings (uncommitted rows are invisible)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.seen: dict[str, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> CommitWatch:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _watch(self) -> None:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        after = connection.execute("SELECT coalesce(max(position), 0) FROM inbox").fetchone()[0]
        while not self.stopped.wait(0.005):
            rows = connection.execute(
                "SELECT position, event_id FROM inbox WHERE position > ? ORDER BY position", (after,)
            ).fetchall()
            now = time.time()
            for position, event_id in rows:
                self.seen.setdefault(event_id, now)
                after = position
        connection.close()


def survey_body(needs: list[str]) -> dict[str, object]:
    return {
        "survey_year": 2025,
        "surveyed_on": "2025-03-15",
        "has_needs": bool(needs),
        "needed_items": needs,
        "home_visit_required": False,
        "surveyor": "社区康复协调员 张丽",
    }


async def command(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> dict[str, Any]:
    """POST a command, sent again with its Idempotency-Key when the connection drops (an overloaded
    server closes idle kept-alive connections as the client reuses them)."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(5):
        try:
            answer = await http.post(url, json=body, headers=headers)
            break
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.1)
    if answer.status_code != 201:
        raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")
    return dict(answer.json())


async def rehab_end_to_end(
    args: argparse.Namespace, url: str, people: Iterator[SamplePerson], watch: CommitWatch
) -> tuple[float, list[float]]:
    """Persons registered and surveyed at ``--persons-per-second`` for ``--seconds`` (open loop); the
    rate reached and, per survey, seconds from sending its command to settlement's commit of it
    (infinite when settlement had not committed it a minute after the last command)."""
    sent: dict[str, float] = {}

    async def person(http: httpx.AsyncClient, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        sample = next(people)
        body = {**sample.registration, "registered_on": "2025-03-01"}
        person_id = (await command(http, url + "/persons", body))["person_id"]
        began = time.time()
        surveyed = await command(http, f"{url}/persons/{person_id}/surveys", survey_body(sample.needs))
        sent[surveyed["survey_id"]] = began

    persons = int(args.persons_per_second * args.seconds)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(person(http, start + i / args.persons_per_second) for i in range(persons)))
        rate = persons / (time.perf_counter() - start)
    deadline = time.monotonic() + 60
    while any(event_id not in watch.seen for event_id in sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # A survey settlement has not committed a minute after the last command counts as never (infinite).
    return rate, [watch.seen.get(event_id, began + math.inf) - began for event_id, began in sent.items()]


async def bare_end_to_end(args: argparse.Namespace, redis_url: str, round_: int) -> tuple[float, list[float]]:
    """XADD at the same rate and for as long, one reader blocked in XREADGROUP: the transport's floor."""
    stream, redis = f"bench.e2e.{round_}", Redis.from_url(redis_url)
    await redis.xgroup_create(stream, "bench", id="0", mkstream=True)
    count = int(args.persons_per_second * args.seconds)
    latencies: list[float] = []

    async def read() -> None:
        reader = Redis.from_url(redis_url)
        while len(latencies) < count:
            replies: Any = await reader.xreadgroup("bench", "bench-1", {stream: ">"}, count=100, block=1000)
            for _stream, entries in replies or []:
                now = time.time()
                latencies.extend(now - float(fields[b"sent"]) for _id, fields in entries)
                await reader.xack(stream, "bench", *(entry_id for entry_id, _fields in entries))
        await reader.aclose()

    reading = asyncio.create_task(read())
    start = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / args.persons_per_second - time.perf_counter()))
        await redis.xadd(stream, {"sent": repr(time.time())})
    rate = count / (time.perf_counter() - start)
    await reading
    await redis.aclose()
    return rate, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else 0.0
