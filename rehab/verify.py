"""`rehab verify`: the delivery invariants I1-I6, checked across every service store and Redis.

Run it on a quiescent deployment (no command in flight, consumers caught up): it reads each
service's events, outbox, inbox, parked events (and settlement's ledger), and from Redis each
producer stream, each group's pending entries and each consumer's dead letters; it writes nothing.

The checks are pure functions of a :class:`Snapshot`, so each can be tested on hand-made data:

* I1 every accepted command recorded exactly once: no event id twice (within or across stores);
  no idempotency key (where an ``idempotency_keys`` table exists) mapped to two event sets.
* I2 every recorded event published: no outbox row unpublished or missing, and each published
  entry id still on its stream holding that event (entries older than the stream's first are trimmed).
* I3 every published event consumed by every subscribing service, or dead-lettered with a reason;
  no entry pending in any group; nothing parked; nothing consumed that its producer did not record.
* I4 no duplicate effect: no two postings with one key, nor for the same rule and source events.
* I5 replay equivalence: settlement's ledger rebuilt in memory from its archive equals the live one.
* I6 per-aggregate versions gap-free and increasing in every store (and in every consumer's inbox).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import ResponseError
from rehab_contracts import STREAM_OF_PRODUCER
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select

from services.eventing.dead_letters import DeadLetter, dead_letter_stream
from services.eventing.store import READ_ONLY, create_store_engine, events_table, inbox_table, outbox_table

SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")
PRODUCERS = tuple(STREAM_OF_PRODUCER)
SUBSCRIBES_TO: dict[str, tuple[str, ...]] = {
    "assessment": ("survey",),
    "approval": ("assessment",),
    "delivery": ("approval",),
    "settlement": ("survey", "assessment", "approval", "delivery"),
}
"""Consumer service -> the producers whose streams it consumes (as in services/*/app.py)."""

SHOWN_VIOLATIONS = 10


class StoreMissing(LookupError):
    """A service's store cannot be found (a SQLite file that does not exist)."""


# -- what is read ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventRow:
    """One event of a service's own ``events`` table (position order)."""

    event_id: str
    stream_id: str
    version: int
    fingerprint: str = ""
    """stream id, version, type and payload as canonical JSON, to compare with what consumers got."""


@dataclass(frozen=True)
class OutboxRow:
    event_id: str
    published: bool
    stream_entry_id: str | None = None


@dataclass(frozen=True)
class InboxRow:
    """One consumed event (the order received)."""

    event_id: str
    source_stream: str
    stream_id: str
    version: int
    fingerprint: str = ""


@dataclass(frozen=True)
class PostingRow:
    """What a posting pays, and why (the posting id is derived from the key)."""

    key: str
    rule: str
    debit_account: str
    credit_account: str
    amount_fen: int
    source_event_ids: tuple[str, ...]
    funding_source: str | None = None


@dataclass
class StoreData:
    """Everything `verify` reads from one service's database."""

    service: str
    events: list[EventRow] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    inbox: list[InboxRow] = field(default_factory=list)
    parked: int = 0
    idempotency: list[tuple[str, frozenset[str]]] | None = None
    """(key, event ids) of each ``idempotency_keys`` row; None when the table does not exist."""
    postings: list[PostingRow] | None = None
    """Settlement's live ledger; None for other services."""
    replayed: list[PostingRow] | None = None
    """Settlement's ledger as a rebuild from its archive makes it."""
    unbalanced_postings: int = 0


@dataclass
class StreamData:
    """One producer stream as Redis has it."""

    stream: str
    exists: bool = True
    entries: dict[str, str] = field(default_factory=dict)
    """entry id -> event id of every entry on the stream."""
    first_entry_id: str | None = None
    last_generated_id: str | None = None
    pending: dict[str, int | None] = field(default_factory=dict)
    """consumer group -> XPENDING count; None when the group does not exist."""


@dataclass(frozen=True)
class DeadLetterRow:
    event_id: str
    source_stream: str
    reason: str


@dataclass
class Snapshot:
    stores: dict[str, StoreData]
    streams: dict[str, StreamData] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetterRow]] = field(default_factory=dict)
    """consumer service -> its dead letters."""


@dataclass
class CheckResult:
    code: str
    title: str
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


# -- the checks -----------------------------------------------------------------------------------
def check_recorded_once(snapshot: Snapshot) -> CheckResult:
    """I1: no event id recorded twice; each idempotency key names one set of recorded events."""
    result = CheckResult("I1", "every accepted command recorded exactly once")
    owners: dict[str, list[str]] = defaultdict(list)
    for store in snapshot.stores.values():
        for event in store.events:
            owners[event.event_id].append(store.service)
    duplicates = {event_id: where for event_id, where in owners.items() if len(where) > 1}
    result.violations += [f"event {event_id} recorded {len(where)} times ({', '.join(where)})"
                          for event_id, where in duplicates.items()]
    tally: Counter[str] = Counter()
    for store in snapshot.stores.values():
        if store.idempotency is not None:
            _check_keys(store, tally, result.violations)
    result.counts = {"events recorded": sum(len(where) for where in owners.values()),
                     "event ids recorded twice": len(duplicates),
                     **{name: tally[name] for name in ("idempotency keys", "keys with two event sets",
                                                       "keys naming unrecorded events",
                                                       "events named by two keys")}}
    return result


def _check_keys(store: StoreData, tally: Counter[str], violations: list[str]) -> None:
    """A key maps to one event set, of events the store recorded; no event belongs to two keys."""
    sets: dict[str, set[frozenset[str]]] = defaultdict(set)
    for key, event_ids in store.idempotency or []:
        sets[key].add(event_ids)
    recorded = {event.event_id for event in store.events}
    keys_of: dict[str, set[str]] = defaultdict(set)
    tally["idempotency keys"] += len(sets)
    for key, distinct in sets.items():
        if len(distinct) > 1:
            tally["keys with two event sets"] += 1
            violations.append(f"{store.service}: idempotency key {key!r} maps to {len(distinct)} event sets")
        named = frozenset().union(*distinct)
        if named - recorded:
            tally["keys naming unrecorded events"] += 1
            violations.append(f"{store.service}: idempotency key {key!r} names events not recorded: "
                              + ", ".join(sorted(named - recorded)))
        for event_id in named:
            keys_of[event_id].add(key)
    for event_id, keys in keys_of.items():
        if len(keys) > 1:
            tally["events named by two keys"] += 1
            violations.append(f"{store.service}: event {event_id} is named by keys {sorted(keys)}")


def check_published(snapshot: Snapshot) -> CheckResult:
    """I2: every event has a published outbox row whose entry is on its stream (unless trimmed)."""
    result = CheckResult("I2", "every recorded event published")
    tally: Counter[str] = Counter()
    for producer in PRODUCERS:
        store = snapshot.stores.get(producer)
        if store is None:
            continue
        stream = snapshot.streams.get(STREAM_OF_PRODUCER[producer], StreamData(STREAM_OF_PRODUCER[producer],
                                                                               exists=False))
        outbox = {row.event_id: row for row in store.outbox}
        tally["events"] += len(store.events)
        for event in store.events:
            problem = _publication_problem(event.event_id, outbox.get(event.event_id), stream, tally)
            if problem:
                result.violations.append(f"{producer}: event {event.event_id} {problem}")
        known = {event.event_id for event in store.events}
        tally["stream entries of other events"] += sum(1 for e in stream.entries.values() if e not in known)
    result.counts = {name: tally[name] for name in (
        "events", "published, entry on stream", "published, entry trimmed", "unpublished",
        "without outbox row", "entry missing from stream", "entry holds another event",
        "stream entries of other events")}
    return result


def _publication_problem(
    event_id: str, row: OutboxRow | None, stream: StreamData, tally: Counter[str]
) -> str:
    if row is None:
        tally["without outbox row"] += 1
        return "has no outbox row"
    if not row.published or not row.stream_entry_id:
        tally["unpublished"] += 1
        return "is not published (outbox row unpublished)"
    found = stream.entries.get(row.stream_entry_id)
    if found == event_id:
        tally["published, entry on stream"] += 1
        return ""
    if found is not None:
        tally["entry holds another event"] += 1
        return f"was published as {row.stream_entry_id} but that entry holds event {found}"
    if _trimmed(row.stream_entry_id, stream):
        tally["published, entry trimmed"] += 1
        return ""
    tally["entry missing from stream"] += 1
    return f"was published as {row.stream_entry_id} but {stream.stream} has no such entry"


def _trimmed(entry_id: str, stream: StreamData) -> bool:
    if not stream.exists:
        return False
    if stream.first_entry_id is not None:
        return _entry_key(entry_id) < _entry_key(stream.first_entry_id)
    last = stream.last_generated_id
    return last is not None and _entry_key(entry_id) <= _entry_key(last)


def _entry_key(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds or 0), int(sequence or 0)


def check_consumed(snapshot: Snapshot) -> CheckResult:
    """I3: each subscriber consumed or dead-lettered (with a reason) each event of its producers."""
    result = CheckResult("I3", "every published event consumed by every subscriber or dead-lettered")
    tally: Counter[str] = Counter()
    for consumer, producers in SUBSCRIBES_TO.items():
        store = snapshot.stores.get(consumer)
        if store is None:
            continue
        for producer in producers:
            if producer in snapshot.stores:
                _check_pair(snapshot, store, snapshot.stores[producer], tally, result.violations)
        if store.parked:
            result.violations.append(f"{consumer}: {store.parked} events parked, waiting for a predecessor")
        tally["parked"] += store.parked
    for stream in snapshot.streams.values():
        for group, pending in stream.pending.items():
            if pending is None:
                result.violations.append(f"{stream.stream}: consumer group {group} does not exist")
                tally["missing groups"] += 1
            elif pending:
                result.violations.append(f"{stream.stream}: {pending} entries pending in group {group}")
                tally["pending entries"] += pending
    result.counts = {name: tally[name] for name in (
        "deliveries due", "consumed", "dead-lettered with a reason", "dead-lettered without a reason",
        "lost (neither)", "consumed but never recorded", "consumed with other content", "pending entries",
        "missing groups", "parked")}
    return result


def _check_pair(
    snapshot: Snapshot, consumer: StoreData, producer: StoreData, tally: Counter[str], violations: list[str]
) -> None:
    stream = STREAM_OF_PRODUCER[producer.service]
    inbox = {row.event_id: row for row in consumer.inbox if row.source_stream == stream}
    letters = {letter.event_id: letter for letter in snapshot.dead_letters.get(consumer.service, [])
               if letter.source_stream == stream}
    where = f"{consumer.service} <- {producer.service}"
    for event in producer.events:
        tally["deliveries due"] += 1
        received = inbox.pop(event.event_id, None)
        if received is not None:
            tally["consumed"] += 1
            if event.fingerprint and received.fingerprint and event.fingerprint != received.fingerprint:
                tally["consumed with other content"] += 1
                violations.append(f"{where}: event {event.event_id} was consumed with other content")
        elif event.event_id in letters:
            if letters[event.event_id].reason.strip():
                tally["dead-lettered with a reason"] += 1
            else:
                tally["dead-lettered without a reason"] += 1
                violations.append(f"{where}: event {event.event_id} dead-lettered without a reason")
        else:
            tally["lost (neither)"] += 1
            violations.append(f"{where}: event {event.event_id} ({event.stream_id} v{event.version}) "
                              "neither consumed nor dead-lettered")
    for event_id in inbox:
        tally["consumed but never recorded"] += 1
        violations.append(f"{where}: consumed event {event_id} that {producer.service} never recorded")


def check_no_duplicate_effect(snapshot: Snapshot) -> CheckResult:
    """I4: settlement has no two postings for one key, nor for one rule and the same source events."""
    result = CheckResult("I4", "no duplicate effect (settlement postings)")
    postings = _settlement(snapshot).postings or []
    by_key = Counter(posting.key for posting in postings)
    by_cause = Counter(_cause(posting) for posting in postings)
    result.violations += [f"{count} postings with key {key}" for key, count in by_key.items() if count > 1]
    result.violations += [
        f"{count} {rule} postings for source events {', '.join(sources)}"
        + (f" (funding {funding})" if funding else "")
        for (rule, sources, funding, _accounts), count in by_cause.items() if count > 1
    ]
    result.counts = {
        "postings": len(postings),
        "keys posted twice": sum(1 for count in by_key.values() if count > 1),
        "rule and source events posted twice": sum(1 for count in by_cause.values() if count > 1),
    }
    return result


def _cause(posting: PostingRow) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
    """What a posting pays for. One correction may adjust several payees (a claw-back from the old
    institution, a top-up to the new one), so an adjustment's cause includes its two accounts."""
    accounts = ()
    if posting.rule.endswith("_adjustment"):
        accounts = tuple(sorted((posting.debit_account, posting.credit_account)))
    return posting.rule, tuple(sorted(posting.source_event_ids)), posting.funding_source, accounts


def check_replay_equivalent(snapshot: Snapshot) -> CheckResult:
    """I5: the ledger rebuilt from settlement's archive equals the live ledger, posting by posting."""
    result = CheckResult("I5", "replay equivalence (ledger rebuilt from the archive = live ledger)")
    settlement = _settlement(snapshot)
    live = {posting.key: posting for posting in settlement.postings or []}
    replayed = {posting.key: posting for posting in settlement.replayed or []}
    missing = sorted(replayed.keys() - live.keys())
    extra = sorted(live.keys() - replayed.keys())
    different = sorted(key for key in live.keys() & replayed.keys() if live[key] != replayed[key])
    result.violations += [f"live ledger lacks posting {key}" for key in missing]
    result.violations += [f"live ledger has posting {key} that the replay does not make" for key in extra]
    result.violations += [f"posting {key} differs: live {live[key]} vs replayed {replayed[key]}"
                          for key in different]
    if settlement.unbalanced_postings:
        result.violations.append(f"{settlement.unbalanced_postings} live postings do not balance")
    result.counts = {
        "live postings": len(live),
        "replayed postings": len(replayed),
        "live total fen": sum(posting.amount_fen for posting in live.values()),
        "replayed total fen": sum(posting.amount_fen for posting in replayed.values()),
        "missing from live": len(missing),
        "only in live": len(extra),
        "different": len(different),
        "unbalanced live postings": settlement.unbalanced_postings,
    }
    return result


def check_versions(snapshot: Snapshot) -> CheckResult:
    """I6: each aggregate's versions are 1..n in position order, in every store and every inbox."""
    result = CheckResult("I6", "per-aggregate versions gap-free and increasing")
    aggregates = broken = consumed = consumed_broken = 0
    for store in snapshot.stores.values():
        for stream_id, versions in _versions((e.stream_id, e.version) for e in store.events).items():
            aggregates += 1
            if versions != list(range(1, len(versions) + 1)):
                broken += 1
                result.violations.append(f"{store.service}: {stream_id} has versions {_shown(versions)}")
        inbox = ((f"{row.source_stream} {row.stream_id}", row.version) for row in store.inbox)
        for name, versions in _versions(inbox).items():
            consumed += 1
            if versions != list(range(1, len(versions) + 1)):
                consumed_broken += 1
                result.violations.append(f"{store.service} consumed {name} as versions {_shown(versions)}")
    result.counts = {"aggregates": aggregates, "with a gap or out of order": broken,
                     "consumed aggregates": consumed, "consumed with a gap or out of order": consumed_broken}
    return result


def _versions(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = defaultdict(list)
    for stream_id, version in pairs:
        versions[stream_id].append(version)
    return versions


def _shown(versions: list[int]) -> str:
    return str(versions) if len(versions) <= 12 else f"[{', '.join(map(str, versions[:12]))}, …]"


def _settlement(snapshot: Snapshot) -> StoreData:
    return snapshot.stores.get("settlement") or StoreData("settlement")


CHECKS = (check_recorded_once, check_published, check_consumed, check_no_duplicate_effect,
          check_replay_equivalent, check_versions)


def run_checks(snapshot: Snapshot) -> list[CheckResult]:
    return [check(snapshot) for check in CHECKS]


def render(results: list[CheckResult]) -> str:
    """One table per invariant: counts, ok or VIOLATED, and at most ten violations."""
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.code} {result.title}: {'ok' if result.ok else 'VIOLATED'}")
        width = max((len(name) for name in result.counts), default=0)
        lines += [f"    {name:<{width}}  {count:>8}" for name, count in result.counts.items()]
        if result.violations:
            shown = result.violations[:SHOWN_VIOLATIONS]
            lines.append(f"    violations: {len(result.violations)}" + (
                f" (first {len(shown)})" if len(shown) < len(result.violations) else ""))
            lines += [f"      - {violation}" for violation in shown]
        lines.append("")
    failed = [result.code for result in results if not result.ok]
    lines.append("clean: every invariant holds" if not failed else f"VIOLATED: {', '.join(failed)}")
    return "\n".join(lines) + "\n"


# -- reading a deployment ---------------------------------------------------------------------------
def store_urls(var_dir: Path, overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Each service's database URL: the override, else ``<var_dir>/<service>.db``."""
    return {
        service: overrides.get(service) or f"sqlite:///{var_dir / (service + '.db')}" for service in SERVICES
    }


def verify_deployment(urls: Mapping[str, str], redis_url: str) -> list[CheckResult]:
    """Read every store and Redis, then run the six checks."""
    stores = {service: load_store(service, url) for service, url in urls.items()}
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        streams, letters = load_redis(client)
    finally:
        client.close()
    return run_checks(Snapshot(stores, streams, letters))


def load_store(service: str, url: str) -> StoreData:
    """Read one service's database (read-only transactions; nothing is written)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise StoreMissing(f"no store for {service}: {url.removeprefix('sqlite:///')} does not exist")
    engine = create_store_engine(url)
    reading = engine.execution_options(**{READ_ONLY: True})
    try:
        tables = set(inspect(engine).get_table_names())
        with reading.connect() as connection:
            data = StoreData(
                service=service,
                events=_events(connection),
                outbox=_outbox(connection),
                inbox=_inbox(connection),
                parked=_parked(connection) if "parked" in tables else 0,
                idempotency=_idempotency(connection) if "idempotency_keys" in tables else None,
            )
        if service == "settlement" and "postings" in tables:
            _read_ledger(reading, data)
    finally:
        engine.dispose()
    return data


def _fingerprint(stream_id: str, version: int, event_type: str, payload: Any) -> str:
    return json.dumps([stream_id, version, event_type, payload], sort_keys=True, ensure_ascii=False)


def _events(connection: Connection) -> list[EventRow]:
    query = select(events_table.c.event_id, events_table.c.stream_id, events_table.c.version,
                   events_table.c.event_type, events_table.c.payload).order_by(events_table.c.position)
    return [
        EventRow(
            event_id, stream_id, version, _fingerprint(stream_id, version, event_type, json.loads(payload))
        )
        for event_id, stream_id, version, event_type, payload in connection.execute(query)
    ]


def _outbox(connection: Connection) -> list[OutboxRow]:
    query = select(outbox_table.c.event_id, outbox_table.c.published_at, outbox_table.c.stream_entry_id)
    return [OutboxRow(event_id, published is not None, entry) for event_id, published, entry in
            connection.execute(query)]


def _inbox(connection: Connection) -> list[InboxRow]:
    query = select(inbox_table.c.event_id, inbox_table.c.source_stream, inbox_table.c.envelope).order_by(
        inbox_table.c.position
    )
    rows = []
    for event_id, source_stream, text in connection.execute(query):
        envelope = json.loads(text)
        stream_id, version = envelope["stream_id"], int(envelope["version"])
        fingerprint = _fingerprint(stream_id, version, envelope["event_type"], envelope["payload"])
        rows.append(InboxRow(event_id, source_stream, stream_id, version, fingerprint))
    return rows


def _parked(connection: Connection) -> int:
    from services.eventing.ordering import parked_count

    return parked_count(connection)  # type: ignore[arg-type]


KEY_COLUMNS = ("scope", "service", "command", "endpoint", "method", "path", "route")
"""Columns that, where present, qualify an idempotency key (a key is unique per scope)."""


def _idempotency(connection: Connection) -> list[tuple[str, frozenset[str]]] | None:
    """(key, event ids) per row, from whatever shape the table has; None when it names no event ids."""
    table = Table("idempotency_keys", MetaData(), autoload_with=connection)
    columns = set(table.c.keys())
    key_column = next((name for name in ("key", "idempotency_key", "command_id") if name in columns), None)
    events_column = next((name for name in ("event_ids", "event_id") if name in columns), None)
    if key_column is None or events_column is None:
        return None
    scope = [name for name in KEY_COLUMNS if name in columns]
    rows = []
    for row in connection.execute(select(table)).mappings():
        key = " ".join(str(row[name]) for name in [*scope, key_column])
        rows.append((key, _event_ids(row[events_column])))
    return rows


def _event_ids(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    text = str(value).strip()
    if text.startswith("["):
        return frozenset(str(item) for item in json.loads(text))
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _read_ledger(engine: Engine, data: StoreData) -> None:
    from services.settlement.ledger import archive, feed_archive, postings_table
    from services.settlement.policy import load_policies
    from services.settlement.replay import ledger_report

    with engine.connect() as connection:
        data.postings = [
            PostingRow(row.key, row.rule, row.debit_account, row.credit_account, row.amount_fen,
                       tuple(json.loads(row.source_event_ids)), json.loads(row.inputs).get("funding_source"))
            for row in connection.execute(select(postings_table))
        ]
    # Rebuilt in memory from the archive, exactly as `rehab replay` would: the live ledger is untouched.
    _book, postings = feed_archive(archive(engine), load_policies())
    data.replayed = [
        PostingRow(p.key, p.rule, p.debit_account, p.credit_account, p.amount_fen, tuple(p.source_event_ids),
                   _funding_source(p.inputs))
        for p in postings
    ]
    data.unbalanced_postings = ledger_report(engine).unbalanced_postings


def _funding_source(inputs: Mapping[str, object]) -> str | None:
    source = inputs.get("funding_source")
    return None if source is None else str(source)


def load_redis(client: redis.Redis) -> tuple[dict[str, StreamData], dict[str, list[DeadLetterRow]]]:
    """Each producer stream (entries, first entry, pending per subscribing group) and the dead letters."""
    streams = {}
    for producer, stream in STREAM_OF_PRODUCER.items():
        groups = [consumer for consumer, producers in SUBSCRIBES_TO.items() if producer in producers]
        streams[stream] = _stream(client, stream, groups)
    letters = {}
    for consumer in SUBSCRIBES_TO:
        letters[consumer] = [
            DeadLetterRow(letter.event_id, letter.source_stream, letter.reason)
            for letter in (DeadLetter.from_entry(entry_id, fields)
                           for entry_id, fields in _entries(client, dead_letter_stream(consumer)))
        ]
    return streams, letters


def _stream(client: redis.Redis, stream: str, groups: list[str]) -> StreamData:
    try:
        info = client.xinfo_stream(stream)
    except ResponseError:
        return StreamData(stream, exists=False, pending={group: None for group in groups})
    first = info.get("first-entry")
    data = StreamData(
        stream,
        first_entry_id=first[0] if first else None,
        last_generated_id=info.get("last-generated-id"),
        entries={entry_id: fields.get("event_id", "") for entry_id, fields in _entries(client, stream)},
    )
    for group in groups:
        try:
            data.pending[group] = int(client.xpending(stream, group)["pending"])
        except ResponseError:
            data.pending[group] = None
    return data


def _entries(client: redis.Redis, stream: str, page: int = 1000) -> Iterable[tuple[str, dict[str, str]]]:
    start = "-"
    while True:
        batch = client.xrange(stream, min=start, max="+", count=page)
        yield from batch
        if len(batch) < page:
            return
        start = "(" + batch[-1][0]
