"""What `rehab verify` reads of a deployment: every service store and Redis, into a :class:`Snapshot`.

Read-only: stores are read in read-only transactions, Redis with XRANGE / XPENDING / XINFO.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import ResponseError
from rehab_contracts import STREAM_OF_PRODUCER
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from kernel.deployment import load_deployment
from kernel.messaging.dead_letters import DeadLetter, as_text, dead_letter_stream
from kernel.store.store import READ_ONLY, create_store_engine, events_table, inbox_table, outbox_table
from rehab.services import SERVICES

PRODUCERS = tuple(STREAM_OF_PRODUCER)
SUBSCRIBES_TO: dict[str, tuple[str, ...]] = load_deployment().subscriptions
"""Consumer service -> the producers whose streams it consumes (deploy/services.toml)."""


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
    """Settlement's ledger as a rebuild from its archive makes it; None when the archive cannot replay."""
    replay_error: str | None = None
    """Why settlement's archive could not be replayed (a stored value the book cannot take)."""
    amounts_beyond_bound: list[str] = field(default_factory=list)
    """Settlement's postings and archived amounts beyond MAX_AMOUNT_FEN (stored before the bound)."""
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
    delivered_floor: str | None = None
    """Every entry before this id was delivered to every subscribing group and none holds it pending:
    the lowest of each group's oldest pending entry and the entry after its last-delivered id. None
    when unknown (no stream, a group missing): no missing entry then counts as trimmed."""
    undecodable: list[str] = field(default_factory=list)
    """Ids of the entries holding a field that is not UTF-8 text: no consumer can decode them."""


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


# -- reading a deployment ---------------------------------------------------------------------------
def store_urls(var_dir: Path, overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Each service's database URL: the override, else ``<var_dir>/<service>.db``."""
    return {
        service: overrides.get(service) or f"sqlite:///{var_dir / (service + '.db')}" for service in SERVICES
    }


def load_store(service: str, url: str) -> StoreData:
    """Read one service's database (read-only transactions; nothing is written)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        missing = Path(url.removeprefix("sqlite:///")).absolute()
        raise StoreMissing(f"找不到 {service} 的数据库（no store for {service}）：{missing} 不存在")
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
    query = select(
        events_table.c.event_id,
        events_table.c.stream_id,
        events_table.c.version,
        events_table.c.event_type,
        events_table.c.payload,
    ).order_by(events_table.c.position)
    return [
        EventRow(
            event_id, stream_id, version, _fingerprint(stream_id, version, event_type, json.loads(payload))
        )
        for event_id, stream_id, version, event_type, payload in connection.execute(query)
    ]


def _outbox(connection: Connection) -> list[OutboxRow]:
    query = select(outbox_table.c.event_id, outbox_table.c.published_at, outbox_table.c.stream_entry_id)
    return [
        OutboxRow(event_id, published is not None, entry)
        for event_id, published, entry in connection.execute(query)
    ]


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
    from kernel.messaging.ordering import parked_count

    return parked_count(connection)


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
    from rehab.verify_amounts import stored_amounts_beyond_bound
    from services.settlement.book.policy import load_policies
    from services.settlement.ledger.archive import archive
    from services.settlement.ledger.books import feed_archive
    from services.settlement.ledger.report import ledger_report
    from services.settlement.ledger.tables import postings_table

    with engine.connect() as connection:
        data.postings = [
            PostingRow(
                row.key,
                row.rule,
                row.debit_account,
                row.credit_account,
                row.amount_fen,
                tuple(json.loads(row.source_event_ids)),
                json.loads(row.inputs).get("funding_source"),
            )
            for row in connection.execute(select(postings_table))
        ]
        data.amounts_beyond_bound = stored_amounts_beyond_bound(connection, whole_archive=True)
    # Rebuilt in memory from the archive, exactly as `rehab replay` would: the live ledger is untouched.
    try:
        _book, postings = feed_archive(archive(engine), load_policies())
    except (ValueError, ArithmeticError, SQLAlchemyError) as error:  # a stored value: reported under I5
        data.replay_error = f"{type(error).__name__}: {error}"
    else:
        data.replayed = [
            PostingRow(
                p.key,
                p.rule,
                p.debit_account,
                p.credit_account,
                p.amount_fen,
                tuple(p.source_event_ids),
                _funding_source(p.inputs),
            )
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
            for letter in (
                DeadLetter.from_entry(entry_id, fields)
                for entry_id, fields in _entries(client, dead_letter_stream(consumer))
            )
        ]
    return streams, letters


def _stream(client: redis.Redis, stream: str, groups: list[str]) -> StreamData:
    try:
        info = client.xinfo_stream(stream)
    except ResponseError:
        return StreamData(stream, exists=False, pending={group: None for group in groups})
    first = info.get("first-entry")
    last_generated = info.get("last-generated-id")
    data = StreamData(
        stream,
        first_entry_id=as_text(first[0]) if first else None,
        last_generated_id=None if last_generated is None else as_text(last_generated),
    )
    for entry_id, raw in _raw_entries(client, stream):
        fields = _decoded(raw)
        data.entries[entry_id] = fields.get("event_id", "")
        if not _is_text(raw):
            data.undecodable.append(entry_id)
    delivered = {as_text(group["name"]): group for group in client.xinfo_groups(stream)}
    floors = []
    for group in groups:
        if group not in delivered:
            data.pending[group] = None
            continue
        summary = client.xpending(stream, group)
        data.pending[group] = int(summary["pending"])
        floors.append(_group_floor(as_text(delivered[group]["last-delivered-id"]), summary))
    if floors and len(floors) == len(groups):
        data.delivered_floor = "{}-{}".format(*min(floors))
    return data


def _group_floor(last_delivered: str, pending: Mapping[str, Any]) -> tuple[int, int]:
    """The first entry of the stream this group was not delivered, or holds pending."""
    milliseconds, _, sequence = last_delivered.partition("-")
    floor = (int(milliseconds), int(sequence) + 1)
    if int(pending["pending"]) and pending.get("min"):
        milliseconds, _, sequence = as_text(pending["min"]).partition("-")
        floor = min(floor, (int(milliseconds), int(sequence)))
    return floor


def _entries(client: redis.Redis, stream: str) -> Iterator[tuple[str, dict[str, str]]]:
    for entry_id, raw in _raw_entries(client, stream):
        yield entry_id, _decoded(raw)


def _raw_entries(
    client: redis.Redis, stream: str, page: int = 1000
) -> Iterator[tuple[str, Mapping[Any, Any]]]:
    """Each entry's fields as Redis gave them: bytes from a client that does not decode responses."""
    start = "-"
    while True:
        batch = client.xrange(stream, min=start, max="+", count=page) or []
        for entry_id, fields in batch:
            yield as_text(entry_id), fields or {}
        if len(batch) < page:
            return
        start = "(" + as_text(batch[-1][0])


def _decoded(fields: Mapping[Any, Any]) -> dict[str, str]:
    """Text, bytes that are not UTF-8 shown as U+FFFD (as the consumers keep them when dead-lettering)."""
    return {as_text(name): as_text(value) for name, value in fields.items()}


def _is_text(fields: Mapping[Any, Any]) -> bool:
    for item in (*fields.keys(), *fields.values()):
        if isinstance(item, bytes):
            try:
                item.decode()
            except UnicodeDecodeError:
                return False
    return True
