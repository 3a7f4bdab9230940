"""What the relay's loss check reads of the outbox: every published event whose entry may lie at or after
the groups' delivery floor, and not the hour of events published before it."""

from __future__ import annotations

import time

from kernel.messaging.relay import OutboxRelay, entry_key
from kernel.store.store import EventStore
from tests.kernel.events import need_surveyed


def published_with(store: EventStore, entry_ids: list[str]) -> dict[str, int]:
    """Commit one event per entry id and mark each published under it; the position of each id."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed() for _ in entry_ids])
    positions = [event.position for event in store.read()]
    store.mark_published(list(zip(positions, entry_ids, strict=True)))
    return dict(zip(entry_ids, positions, strict=True))


def test_the_check_reads_every_entry_at_or_after_the_floor_and_none_before_it_with_as_many_digits(
    store: EventStore,
) -> None:
    floor_ms = int(time.time() * 1000) - 60_000  # the slowest group a minute behind this relay's clock
    before = [f"{floor_ms - 1}-7", f"{floor_ms - 3_600_000}-0", f"{floor_ms - 999_999_999}-0"]
    at_or_after = [f"{floor_ms}-2", f"{floor_ms}-10", f"{floor_ms + 1}-0", f"{floor_ms + 10**9}-0"]
    other_digits = ["999-0", f"{floor_ms * 10}-0", "1-1"]  # a Redis clock far off: handed over too
    positions = published_with(store, before + at_or_after + other_digits)
    relay = OutboxRelay(store, None, "rehab.survey.events")  # type: ignore[arg-type]  # no Redis needed

    read = {entry_id: position for position, entry_id, _event_id in relay._published_from((floor_ms, 2))}

    assert {entry_id: read.get(entry_id) for entry_id in at_or_after + other_digits} == {
        entry_id: positions[entry_id] for entry_id in at_or_after + other_digits
    }
    assert not set(before) & set(read)
    assert all(entry_key(entry_id) < (floor_ms, 2) for entry_id in before)


def test_without_a_floor_past_the_clock_margin_the_check_reads_every_published_event(
    store: EventStore,
) -> None:
    positions = published_with(store, ["5-0", "1700000000000-0", "1-1"])
    relay = OutboxRelay(store, None, "rehab.survey.events")  # type: ignore[arg-type]  # no Redis needed

    read = relay._published_from((0, 0))

    assert sorted(position for position, _entry_id, _event_id in read) == sorted(positions.values())
