"""Hand-made deployments for the checks of `rehab verify`: a clean one, then tampered copies."""

from __future__ import annotations

from rehab_contracts import STREAM_OF_PRODUCER

from rehab.verify import (
    SUBSCRIBES_TO,
    DeadLetterRow,
    EventRow,
    InboxRow,
    OutboxRow,
    PostingRow,
    Snapshot,
    StoreData,
    StreamData,
)

EVENTS = {
    "survey": [("survey-1", "person-a", 1), ("survey-2", "person-a", 2), ("survey-3", "person-b", 1)],
    "assessment": [("assessment-1", "assessment-a", 1), ("assessment-2", "assessment-a", 2)],
    "approval": [("approval-1", "application-a", 1)],
    "delivery": [("delivery-1", "delivery-a", 1)],
}


def event(event_id: str, stream_id: str, version: int) -> EventRow:
    return EventRow(event_id, stream_id, version, fingerprint=f"{stream_id}/{version}")


def posting(key: str, rule: str, amount_fen: int, *sources: str, funding: str | None = None) -> PostingRow:
    return PostingRow(key, rule, "fund:liangjiang-finance", "street:礼嘉", amount_fen, sources, funding)


POSTINGS = [
    posting("survey_fee:a:2025", "survey_fee", 3000, "survey-2"),
    posting("management_fee:a:2025", "management_fee", 3000, "survey-2", "assessment-2"),
    posting(
        "service_subsidy:d|district", "service_subsidy", 600, "approval-1", "delivery-1", funding="district"
    ),
    posting("service_subsidy:d|city", "service_subsidy", 400, "approval-1", "delivery-1", funding="city"),
]


def entry_id(n: int) -> str:
    return f"1700000000000-{n}"


def clean() -> Snapshot:
    """Every event recorded once, published, consumed by each subscriber; ledger = replay."""
    stores = {
        service: StoreData(service)
        for service in ("survey", "assessment", "approval", "delivery", "settlement")
    }
    streams: dict[str, StreamData] = {}
    for producer, rows in EVENTS.items():
        stream = StreamData(STREAM_OF_PRODUCER[producer], first_entry_id=entry_id(0))
        for n, (event_id, stream_id, version) in enumerate(rows):
            stores[producer].events.append(event(event_id, stream_id, version))
            stores[producer].outbox.append(OutboxRow(event_id, True, entry_id(n)))
            stream.entries[entry_id(n)] = event_id
        streams[stream.stream] = stream
    for consumer, producers in SUBSCRIBES_TO.items():
        for producer in producers:
            streams[STREAM_OF_PRODUCER[producer]].pending[consumer] = 0
            stores[consumer].inbox += [
                InboxRow(event_id, STREAM_OF_PRODUCER[producer], stream_id, version, f"{stream_id}/{version}")
                for event_id, stream_id, version in EVENTS[producer]
            ]
    stores["settlement"].postings = list(POSTINGS)
    stores["settlement"].replayed = list(POSTINGS)
    return Snapshot(stores, streams, {consumer: [] for consumer in SUBSCRIBES_TO})


def live_postings(snapshot: Snapshot) -> list[PostingRow]:
    """The live ledger read from settlement's store (present in every snapshot ``clean()`` makes)."""
    postings = snapshot.stores["settlement"].postings
    assert postings is not None, "the snapshot has no settlement ledger"
    return postings


def dead_letter(event_id: str, producer: str, reason: str = "rejected: not designated") -> DeadLetterRow:
    return DeadLetterRow(event_id, STREAM_OF_PRODUCER[producer], reason)


def drop_from_inbox(snapshot: Snapshot, consumer: str, event_id: str) -> Snapshot:
    store = snapshot.stores[consumer]
    store.inbox = [row for row in store.inbox if row.event_id != event_id]
    return snapshot
