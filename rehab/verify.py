"""`rehab verify`: the delivery invariants I1-I6, checked across every service store and Redis.

Run it on a quiescent deployment (no command in flight, consumers caught up): it reads each
service's events, outbox, inbox, parked events (and settlement's ledger), and from Redis each
producer stream, each group's pending entries and each consumer's dead letters; it writes nothing.

The checks are pure functions of a :class:`Snapshot`, so each can be tested on hand-made data:

* I1 every accepted command recorded exactly once: no event id twice (within or across stores);
  no idempotency key (where an ``idempotency_keys`` table exists) mapped to two event sets.
* I2 every recorded event published: no outbox row unpublished or missing, and each published
  entry id still on its stream holding that event, unless retention trimmed it after every
  subscribing group was delivered it and acknowledged it (older than the stream's first entry and
  than the groups' delivery floor); an entry trimmed before that is a violation.
* I3 every published event consumed by every subscribing service, or dead-lettered with a reason;
  no entry pending in any group; nothing parked; nothing consumed that its producer did not record.
* I4 no duplicate effect: no two postings with one key, nor for the same rule and source events.
* I5 replay equivalence: settlement's ledger rebuilt in memory from its archive equals the live one.
* I6 per-aggregate versions gap-free and increasing in every store (and in every consumer's inbox).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis
from rehab_contracts import STREAM_OF_PRODUCER

from kernel.access.audit import printable
from rehab.verify_report import render
from rehab.verify_snapshot import (
    PRODUCERS,
    SERVICES,
    SUBSCRIBES_TO,
    DeadLetterRow,
    EventRow,
    InboxRow,
    OutboxRow,
    PostingRow,
    Snapshot,
    StoreData,
    StoreMissing,
    StreamData,
    load_redis,
    load_store,
    store_urls,
)

__all__ = [
    "PRODUCERS",
    "SERVICES",
    "SUBSCRIBES_TO",
    "CheckResult",
    "DeadLetterRow",
    "EventRow",
    "InboxRow",
    "OutboxRow",
    "PostingRow",
    "Snapshot",
    "StoreData",
    "StoreMissing",
    "StreamData",
    "load_redis",
    "load_store",
    "render",
    "run_checks",
    "store_urls",
    "verify_deployment",
]


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
    result.violations += [
        f"事件 {event_id} 记录了 {len(where)} 次（{', '.join(where)}）"
        for event_id, where in duplicates.items()
    ]
    tally: Counter[str] = Counter()
    for store in snapshot.stores.values():
        if store.idempotency is not None:
            _check_keys(store, tally, result.violations)
    result.counts = {
        "events recorded": sum(len(where) for where in owners.values()),
        "event ids recorded twice": len(duplicates),
        **{
            name: tally[name]
            for name in (
                "idempotency keys",
                "keys with two event sets",
                "keys naming unrecorded events",
                "events named by two keys",
            )
        },
    }
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
            violations.append(
                f"{store.service}：幂等键（idempotency key）{key!r} 对应 {len(distinct)} 组事件"
            )
        named = frozenset().union(*distinct)
        if named - recorded:
            tally["keys naming unrecorded events"] += 1
            violations.append(
                f"{store.service}：幂等键（idempotency key）{key!r} 指向未记录的事件："
                + ", ".join(sorted(named - recorded))
            )
        for event_id in named:
            keys_of[event_id].add(key)
    for event_id, keys in keys_of.items():
        if len(keys) > 1:
            tally["events named by two keys"] += 1
            violations.append(f"{store.service}：事件 {event_id} 被多个幂等键指向：{sorted(keys)}")


def check_published(snapshot: Snapshot) -> CheckResult:
    """I2: every event has a published outbox row whose entry is on its stream (unless trimmed)."""
    result = CheckResult("I2", "every recorded event published")
    tally: Counter[str] = Counter()
    for producer in PRODUCERS:
        store = snapshot.stores.get(producer)
        if store is None:
            continue
        stream = snapshot.streams.get(
            STREAM_OF_PRODUCER[producer], StreamData(STREAM_OF_PRODUCER[producer], exists=False)
        )
        outbox = {row.event_id: row for row in store.outbox}
        tally["events"] += len(store.events)
        for event in store.events:
            problem = _publication_problem(event.event_id, outbox.get(event.event_id), stream, tally)
            if problem:
                result.violations.append(f"{producer}：事件 {event.event_id} {problem}")
        known = {event.event_id for event in store.events}
        tally["stream entries of other events"] += sum(1 for e in stream.entries.values() if e not in known)
    result.counts = {
        name: tally[name]
        for name in (
            "events",
            "published, entry on stream",
            "published, entry trimmed",
            "entry trimmed before every group had it",
            "unpublished",
            "without outbox row",
            "entry missing from stream",
            "entry holds another event",
            "stream entries of other events",
        )
    }
    return result


def _publication_problem(
    event_id: str, row: OutboxRow | None, stream: StreamData, tally: Counter[str]
) -> str:
    if row is None:
        tally["without outbox row"] += 1
        return "没有发件箱行（no outbox row）"
    if not row.published or not row.stream_entry_id:
        tally["unpublished"] += 1
        return "未发布（outbox row unpublished）"
    found = stream.entries.get(row.stream_entry_id)
    if found == event_id:
        tally["published, entry on stream"] += 1
        return ""
    if found is not None:
        tally["entry holds another event"] += 1
        return f"已发布为条目 {row.stream_entry_id}，但该条目是事件 {found}（entry holds another event）"
    if _trimmed(row.stream_entry_id, stream):
        if _delivered_to_every_group(row.stream_entry_id, stream):
            tally["published, entry trimmed"] += 1
            return ""
        tally["entry trimmed before every group had it"] += 1
        return (
            f"已发布为条目 {row.stream_entry_id}，但在每个消费组收到之前 {stream.stream} 已修剪掉它"
            "（trimmed before every consumer group had it）"
        )
    tally["entry missing from stream"] += 1
    return f"已发布为条目 {row.stream_entry_id}，但 {stream.stream} 上没有这个条目（no such entry）"


def _trimmed(entry_id: str, stream: StreamData) -> bool:
    if not stream.exists:
        return False
    if stream.first_entry_id is not None:
        return _entry_key(entry_id) < _entry_key(stream.first_entry_id)
    last = stream.last_generated_id
    return last is not None and _entry_key(entry_id) <= _entry_key(last)


def _delivered_to_every_group(entry_id: str, stream: StreamData) -> bool:
    """Trimming it lost nothing: every group was delivered it and acknowledged it (issue 14)."""
    floor = stream.delivered_floor
    return floor is not None and _entry_key(entry_id) < _entry_key(floor)


def _entry_key(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds or 0), int(sequence or 0)


def check_consumed(snapshot: Snapshot) -> CheckResult:
    """I3: each subscriber consumed each event of its producers; every dead letter is a violation
    with its reason, since a dead-lettered event was not applied (issue 14: dead letters after a full
    disk were called clean) and a dead letter of a forged or poison entry waits for the operator."""
    result = CheckResult("I3", "every published event consumed by every subscriber, no dead letter waiting")
    tally: Counter[str] = Counter()
    for consumer, producers in SUBSCRIBES_TO.items():
        store = snapshot.stores.get(consumer)
        if store is None:
            continue
        letters = list(snapshot.dead_letters.get(consumer, []))
        for producer in producers:
            if producer in snapshot.stores:
                letters = _check_pair(snapshot.stores[producer], store, letters, tally, result.violations)
        _unrecorded_dead_letters(consumer, letters, tally, result.violations)
        if store.parked:
            result.violations.append(f"{consumer}：{store.parked} 个事件暂存（parked），等待前序事件")
        tally["parked"] += store.parked
    for stream in snapshot.streams.values():
        _undecodable_entries(stream, tally, result.violations)
        for group, pending in stream.pending.items():
            if pending is None:
                result.violations.append(f"{stream.stream}：消费组（consumer group）{group} 不存在")
                tally["missing groups"] += 1
            elif pending:
                result.violations.append(
                    f"{stream.stream}：消费组 {group} 有 {pending} 个条目待确认（pending）"
                )
                tally["pending entries"] += pending
    result.counts = {
        name: tally[name]
        for name in (
            "deliveries due",
            "consumed",
            "dead-lettered (not applied)",
            "dead-lettered without a reason",
            "lost (neither)",
            "consumed but never recorded",
            "consumed with other content",
            "dead letters of entries never recorded",
            "pending entries",
            "missing groups",
            "parked",
            "entries not UTF-8",
        )
    }
    return result


def _undecodable_entries(stream: StreamData, tally: Counter[str], violations: list[str]) -> None:
    """Entries no consumer can decode (bytes that are not UTF-8): dead-lettered, never applied."""
    for entry_id in stream.undecodable:
        violations.append(
            f"{stream.stream}：条目 {entry_id} 含有不是 UTF-8 文本的字段（not UTF-8），"
            "没有消费者能解码它，它会进入死信"
        )
    tally["entries not UTF-8"] += len(stream.undecodable)


def _check_pair(
    producer: StoreData,
    consumer: StoreData,
    letters: list[DeadLetterRow],
    tally: Counter[str],
    violations: list[str],
) -> list[DeadLetterRow]:
    """Check one subscription; returns the dead letters not about one of the producer's events."""
    stream = STREAM_OF_PRODUCER[producer.service]
    inbox = {row.event_id: row for row in consumer.inbox if row.source_stream == stream}
    recorded = {event.event_id for event in producer.events}
    mine = {letter.event_id: letter for letter in letters if letter.source_stream == stream}
    where = f"{consumer.service} <- {producer.service}"
    for event in producer.events:
        tally["deliveries due"] += 1
        received = inbox.pop(event.event_id, None)
        letter = mine.get(event.event_id)
        if received is not None:
            tally["consumed"] += 1
            if event.fingerprint and received.fingerprint and event.fingerprint != received.fingerprint:
                tally["consumed with other content"] += 1
                violations.append(
                    f"{where}：事件 {event.event_id} 消费时内容不同（consumed with other content）"
                )
        elif letter is not None and letter.reason.strip():
            tally["dead-lettered (not applied)"] += 1
            violations.append(
                f"{where}：事件 {event.event_id}（{event.stream_id} v{event.version}）"
                f"进入死信（dead-lettered），未应用：{printable(letter.reason)}"
            )
        elif letter is not None:
            tally["dead-lettered without a reason"] += 1
            violations.append(f"{where}：事件 {event.event_id} 进入死信（dead-lettered），没有原因")
        else:
            tally["lost (neither)"] += 1
            violations.append(
                f"{where}：事件 {event.event_id}（{event.stream_id} v{event.version}）"
                "既未消费也未进入死信（neither consumed nor dead-lettered）"
            )
    for event_id in inbox:
        tally["consumed but never recorded"] += 1
        violations.append(f"{where}：消费了 {producer.service} 从未记录的事件 {event_id}（never recorded）")
    # A dead letter of an event that was applied after all (a conflicting copy, a retried one) is
    # about that event too: only dead letters of entries the producer never recorded remain.
    return [letter for letter in letters if letter.source_stream != stream or letter.event_id not in recorded]


def _unrecorded_dead_letters(
    consumer: str, letters: list[DeadLetterRow], tally: Counter[str], violations: list[str]
) -> None:
    """Dead letters of forged, poison or foreign entries: right to refuse, but the operator must look."""
    for letter in letters:
        tally["dead letters of entries never recorded"] += 1
        violations.append(
            f"{consumer}：{letter.source_stream or '（无流）'} 的死信（dead letter），事件 "
            f"{letter.event_id or '（无）'}，其生产者从未记录（never recorded）：{printable(letter.reason)}"
        )


def check_no_duplicate_effect(snapshot: Snapshot) -> CheckResult:
    """I4: settlement has no two postings for one key, nor for one rule and the same source events."""
    result = CheckResult("I4", "no duplicate effect (settlement postings)")
    postings = _settlement(snapshot).postings or []
    by_key = Counter(posting.key for posting in postings)
    by_cause = Counter(_cause(posting) for posting in postings)
    result.violations += [
        f"记账键 {key} 有 {count} 笔记账（postings）" for key, count in by_key.items() if count > 1
    ]
    result.violations += [
        f"规则 {rule} 为来源事件 {', '.join(sources)} 记了 {count} 笔账"
        + (f"（资金来源 funding {funding}）" if funding else "")
        for (rule, sources, funding, _accounts), count in by_cause.items()
        if count > 1
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
    accounts: tuple[str, ...] = ()
    if posting.rule.endswith("_adjustment"):
        accounts = tuple(sorted((posting.debit_account, posting.credit_account)))
    return posting.rule, tuple(sorted(posting.source_event_ids)), posting.funding_source, accounts


def check_replay_equivalent(snapshot: Snapshot) -> CheckResult:
    """I5: the ledger rebuilt from settlement's archive equals the live ledger, posting by posting."""
    result = CheckResult("I5", "replay equivalence (ledger rebuilt from the archive = live ledger)")
    settlement = _settlement(snapshot)
    result.violations += [
        f"存储的金额超出上限（beyond the bound）：{line}" for line in settlement.amounts_beyond_bound
    ]
    if settlement.replay_error is not None:
        result.violations.append(f"存档无法重放（archive cannot be replayed）：{settlement.replay_error}")
        result.counts = {"amounts beyond the bound": len(settlement.amounts_beyond_bound)}
        return result
    live = {posting.key: posting for posting in settlement.postings or []}
    replayed = {posting.key: posting for posting in settlement.replayed or []}
    missing = sorted(replayed.keys() - live.keys())
    extra = sorted(live.keys() - replayed.keys())
    different = sorted(key for key in live.keys() & replayed.keys() if live[key] != replayed[key])
    result.violations += [f"实时台账缺少记账 {key}（missing from live）" for key in missing]
    result.violations += [f"实时台账有记账 {key}，重放不产生它（only in live）" for key in extra]
    result.violations += [
        f"记账 {key} 不一致（different）：实时 {live[key]}，重放 {replayed[key]}" for key in different
    ]
    if settlement.unbalanced_postings:
        result.violations.append(f"{settlement.unbalanced_postings} 笔实时记账借贷不平衡（unbalanced）")
    result.counts = {
        "live postings": len(live),
        "replayed postings": len(replayed),
        "live total fen": sum(posting.amount_fen for posting in live.values()),
        "replayed total fen": sum(posting.amount_fen for posting in replayed.values()),
        "missing from live": len(missing),
        "only in live": len(extra),
        "different": len(different),
        "unbalanced live postings": settlement.unbalanced_postings,
        "amounts beyond the bound": len(settlement.amounts_beyond_bound),
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
                result.violations.append(f"{store.service}：{stream_id} 的版本为 {_shown(versions)}")
        inbox = ((f"{row.source_stream} {row.stream_id}", row.version) for row in store.inbox)
        for name, versions in _versions(inbox).items():
            consumed += 1
            if versions != list(range(1, len(versions) + 1)):
                consumed_broken += 1
                result.violations.append(f"{store.service} 消费 {name} 时的版本为 {_shown(versions)}")
    result.counts = {
        "aggregates": aggregates,
        "with a gap or out of order": broken,
        "consumed aggregates": consumed,
        "consumed with a gap or out of order": consumed_broken,
    }
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


CHECKS = (
    check_recorded_once,
    check_published,
    check_consumed,
    check_no_duplicate_effect,
    check_replay_equivalent,
    check_versions,
)


def run_checks(snapshot: Snapshot) -> list[CheckResult]:
    return [check(snapshot) for check in CHECKS]


def verify_deployment(urls: Mapping[str, str], redis_url: str) -> list[CheckResult]:
    """Read every store and Redis, then run the six checks."""
    # Responses stay bytes: an entry that is not UTF-8 is a finding (I3), not a crash of the reading.
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()  # Redis down is said at once, not after every store was read and replayed
        stores = {service: load_store(service, url) for service, url in urls.items()}
        streams, letters = load_redis(client)
    finally:
        client.close()
    return run_checks(Snapshot(stores, streams, letters))
