"""The relay's loss check when a promoted Redis reuses the entry ids of entries lost with the old one."""

from __future__ import annotations

import redis
from sqlalchemy import update

from kernel.store.store import EventStore
from kernel.store.tables import outbox_table
from tests.kernel.events import need_surveyed
from tests.kernel.test_relay import STREAM, publish, republish_lost
from tests.streams import add, entries


def test_entries_lost_with_redis_are_published_again_though_a_promoted_redis_reused_their_ids(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """The primary dies before its replica had two entries; the replica, promoted with a clock behind,
    gives the next two events the very ids the lost entries had. An id on the stream does not say which
    event it holds: the check compares event ids."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    lost_ids = [entry_id for entry_id, _fields in entries(redis_client, STREAM)]
    with store.transaction() as unit:
        unit.append("person-2", 0, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    later = entries(redis_client, STREAM)[2:]

    # The promoted Redis holds the two later events only, under the ids the two lost entries had.
    redis_client.delete(STREAM)
    with store.engine.begin() as connection:
        for reused_id, (entry_id, fields) in zip(lost_ids, later, strict=True):
            add(redis_client, STREAM, fields, entry_id=reused_id)
            connection.execute(
                update(outbox_table)
                .where(outbox_table.c.stream_entry_id == entry_id)
                .values(stream_entry_id=reused_id)
            )

    assert republish_lost(store, redis_url) == 2
    assert publish(store, redis_url) == 2
    assert [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)] == [1, 2, 1, 2]
    assert len({fields["event_id"] for _id, fields in entries(redis_client, STREAM)}) == 4


def test_an_event_published_twice_is_not_lost_while_one_of_its_entries_is_on_the_stream(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """A relay that died between XADD and marking publishes the event again; the outbox keeps the second
    entry's id. Losing that entry alone loses nothing: the first still holds the event."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    publish(store, redis_url)
    [(first_id, fields)] = entries(redis_client, STREAM)
    with store.engine.begin() as connection:
        connection.execute(update(outbox_table).values(stream_entry_id=first_id.replace("-0", "-9")))

    assert republish_lost(store, redis_url) == 0
    assert fields["version"] == "1"
