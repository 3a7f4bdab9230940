"""The outbox relay against a real Redis: plain JSON fields, order, no skipped events, Redis outages."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

import pytest
import redis
from redis.asyncio import Redis
from rehab_contracts import EventEnvelope
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel.messaging.relay import OutboxRelay
from kernel.store.store import EventStore, UnitOfWork
from kernel.store.tables import outbox_table
from tests.kernel.events import need_surveyed
from tests.streams import PendingAcknowledgedMeanwhile, add, entries, read_group

STREAM = "rehab.survey.events"


def relay_for(store: EventStore, redis_url: str) -> OutboxRelay:
    return OutboxRelay(store, Redis.from_url(redis_url), STREAM, retry_seconds=0.05)


def publish(store: EventStore, redis_url: str) -> int:
    async def once() -> int:
        relay = relay_for(store, redis_url)
        try:
            return await relay.publish_pending()
        finally:
            await relay.redis.aclose()

    return asyncio.run(once())


def test_published_entries_are_plain_json_fields_any_client_can_read(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        stored = unit.append("person-1", 0, [need_surveyed()])[0]
    assert publish(store, redis_url) == 1
    [(_entry_id, fields)] = entries(redis_client, STREAM)
    assert fields["event_id"] == str(stored.event_id)
    assert fields["event_type"] == "survey.need_surveyed"
    assert json.loads(fields["payload"])["person_id"] == stored.payload["person_id"]
    assert EventEnvelope.from_wire(fields) == stored


def test_events_are_published_once_in_position_order(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed(), need_surveyed()])
    assert publish(store, redis_url) == 3
    assert publish(store, redis_url) == 0
    versions = [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)]
    assert versions == [1, 2, 3]
    assert store.counts()["unpublished"] == 0


def test_an_event_whose_transaction_commits_late_is_still_published(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """Commit-order gap: position 1 commits after position 2 was published."""
    with Session(store.engine) as slow_session:
        slow_session.begin()
        UnitOfWork(slow_session, "survey").append("person-slow", 0, [need_surveyed()])
        slow_session.flush()
        if store.engine.dialect.name == "sqlite":
            # SQLite has one writer at a time: commit the slow one first, then the fast one.
            slow_session.commit()
            with store.transaction() as unit:
                unit.append("person-fast", 0, [need_surveyed()])
            assert publish(store, redis_url) == 2
        else:
            with store.transaction() as unit:
                unit.append("person-fast", 0, [need_surveyed()])
            assert publish(store, redis_url) == 1  # only the fast one is visible yet
            slow_session.commit()
            assert publish(store, redis_url) == 1  # the late one is not skipped
    streams = sorted(fields["stream_id"] for _id, fields in entries(redis_client, STREAM))
    assert streams == ["person-fast", "person-slow"]


def test_the_relay_keeps_events_while_redis_is_unreachable_and_publishes_them_later(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])

    async def run_against_dead_redis() -> None:
        from redis.asyncio import Redis

        relay = OutboxRelay(store, Redis.from_url("redis://127.0.0.1:1/0"), STREAM, retry_seconds=0.05)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.3)
        task.cancel()
        await relay.redis.aclose()

    asyncio.run(run_against_dead_redis())
    assert store.counts()["unpublished"] == 1
    assert publish(store, redis_url) == 1
    assert redis_client.xlen(STREAM) == 1


def test_a_failure_that_lasts_is_logged_once_and_the_recovery_once(
    store: EventStore, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A store not migrated yet made the relay log a multi-line warning every pass (seven in 11 s)."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])

    async def dead_then_alive() -> None:
        relay = OutboxRelay(store, Redis.from_url("redis://127.0.0.1:1/0"), STREAM, retry_seconds=0.02)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.3)  # a dozen passes against a Redis that is not there
        await relay.redis.aclose()
        relay.redis = Redis.from_url(redis_url)
        await asyncio.sleep(0.3)
        task.cancel()
        await relay.redis.aclose()

    with caplog.at_level(logging.INFO, logger="kernel.messaging.relay"):
        asyncio.run(dead_then_alive())

    said = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    assert len([line for line in said if "relay cannot reach Redis" in line]) == 1
    assert len([line for line in said if "again after" in line]) == 1
    assert store.counts()["unpublished"] == 0


def republish_lost(store: EventStore, redis_url: str) -> int:
    async def once() -> int:
        relay = relay_for(store, redis_url)
        try:
            return await relay.republish_lost_entries()
        finally:
            await relay.redis.aclose()

    return asyncio.run(once())


def test_events_whose_stream_redis_lost_are_published_again(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    assert republish_lost(store, redis_url) == 0  # nothing lost yet

    redis_client.flushall()  # Redis restarted without its data
    assert republish_lost(store, redis_url) == 3
    assert publish(store, redis_url) == 3
    assert [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)] == [1, 2, 3]


def test_only_the_entries_newer_than_what_redis_kept_are_published_again(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    publish(store, redis_url)
    [(kept_id, kept_fields)] = entries(redis_client, STREAM)
    with store.transaction() as unit:
        unit.append("person-1", 1, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)

    # Redis comes back from an older snapshot that holds only the first entry.
    redis_client.delete(STREAM)
    add(redis_client, STREAM, kept_fields, entry_id=kept_id)
    assert republish_lost(store, redis_url) == 2
    assert publish(store, redis_url) == 2
    assert [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)] == [1, 2, 3]


def test_lost_entries_are_found_even_when_new_events_were_published_after_the_loss(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    redis_client.flushall()
    with store.transaction() as unit:
        unit.append("person-2", 0, [need_surveyed()])
    assert publish(store, redis_url) == 1  # the stream is re-created by the new event
    assert republish_lost(store, redis_url) == 2
    assert publish(store, redis_url) == 2
    assert redis_client.xlen(STREAM) == 3


# -- trimming by hand (issue 14, defect 9): entries-added does not fall, the groups tell what is lost --
def five_published_and_settlement_read(
    store: EventStore, redis_url: str, redis_client: redis.Redis, read: int, acked: int
) -> list[str]:
    """Five events published; settlement's group was delivered the first ``read``, acknowledged ``acked``."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed() for _ in range(5)])
    publish(store, redis_url)
    redis_client.xgroup_create(STREAM, "settlement", id="0")
    delivered = [entry_id for entry_id, _ in read_group(redis_client, STREAM, "settlement", "c1", count=read)]
    if acked:
        redis_client.xack(STREAM, "settlement", *delivered[:acked])
    return delivered


def test_entries_a_producer_trimmed_before_its_groups_were_delivered_them_are_published_again(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    five_published_and_settlement_read(store, redis_url, redis_client, read=2, acked=2)
    redis_client.xtrim(STREAM, maxlen=0)  # entries-added stays 5: the old check saw nothing lost

    assert republish_lost(store, redis_url) == 3  # the two delivered and acknowledged are not lost
    assert publish(store, redis_url) == 3
    assert [int(fields["version"]) for _id, fields in entries(redis_client, STREAM)] == [3, 4, 5]


def test_entries_trimmed_while_pending_in_a_group_are_published_again(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    five_published_and_settlement_read(store, redis_url, redis_client, read=3, acked=1)
    redis_client.execute_command("XADD", STREAM, "MAXLEN", "0", "*", "event_id", "a trimming XADD")

    assert republish_lost(store, redis_url) == 4  # two pending, two never delivered
    assert publish(store, redis_url) == 4


def test_entries_of_a_stream_missing_a_group_it_had_are_published_again_when_trimmed(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    five_published_and_settlement_read(store, redis_url, redis_client, read=5, acked=5)
    redis_client.xtrim(STREAM, maxlen=0)
    redis_client.xgroup_destroy(STREAM, "settlement")
    redis_client.xgroup_create(STREAM, "settlement", id="0")  # re-created from the start, as keep_groups does

    assert republish_lost(store, redis_url) == 5


def test_lost_entries_are_found_though_the_relay_marked_them_published_by_a_clock_behind_redis(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """The check reads only the rows marked published since shortly before the slowest group's position
    (issue 16: not the whole outbox); a relay's clock 50 minutes behind Redis's is within the margin."""
    five_published_and_settlement_read(store, redis_url, redis_client, read=2, acked=2)
    with store.engine.begin() as connection:
        rows = connection.execute(select(outbox_table.c.position, outbox_table.c.published_at)).all()
        for position, published_at in rows:
            connection.execute(
                update(outbox_table)
                .where(outbox_table.c.position == position)
                .values(published_at=published_at - BEHIND)
            )
    redis_client.xtrim(STREAM, maxlen=0)

    assert republish_lost(store, redis_url) == 3


BEHIND = timedelta(minutes=50)


def test_entries_retention_trimmed_behind_every_group_are_not_published_again(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    delivered = five_published_and_settlement_read(store, redis_url, redis_client, read=4, acked=3)
    redis_client.xtrim(STREAM, minid=delivered[3], approximate=False)  # below the oldest pending entry

    assert republish_lost(store, redis_url) == 0
    assert redis_client.xlen(STREAM) == 2


# -- groups lost between two checks: the relay remembers what each group had received -----------------
def both_groups_read_everything(redis_client: redis.Redis) -> None:
    """Each group the stream has reads and acknowledges every entry it was not delivered yet."""
    for info in redis_client.xinfo_groups(STREAM):
        group = info["name"].decode()
        delivered = [entry_id for entry_id, _ in read_group(redis_client, STREAM, group, "c1")]
        if delivered:
            redis_client.xack(STREAM, group, *delivered)


def test_entries_a_lost_group_never_read_are_published_again_when_the_stream_goes_after_it(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """The CI flake of tests/faults/test_group_loss.py: a check ran while settlement's group was gone
    and took assessment's floor as everyone's; the stream went before the re-created group read it."""

    async def scenario() -> list[int]:
        relay = relay_for(store, redis_url)
        checks = []
        try:
            with store.transaction() as unit:
                unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)
            checks.append(await relay.republish_lost_entries())

            redis_client.xgroup_destroy(STREAM, "settlement")
            with store.transaction() as unit:
                unit.append("person-1", 2, [need_surveyed(), need_surveyed(), need_surveyed()])
            await relay.publish_pending()
            both_groups_read_everything(redis_client)  # assessment only: settlement has no group
            checks.append(await relay.republish_lost_entries())

            redis_client.xgroup_create(STREAM, "settlement", id="0")  # keep_groups re-creates it
            redis_client.delete(STREAM)  # and the stream goes before settlement read anything
            with store.transaction() as unit:
                unit.append("person-2", 0, [need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)  # the groups are back before the next check
            checks.append(await relay.republish_lost_entries())
        finally:
            await relay.redis.aclose()
        return checks

    # Versions 3-5 never reached settlement; 1 and 2, which both groups had read, are restored too: the
    # stream was lost, and subscribers who come later read it.
    assert asyncio.run(scenario()) == [0, 0, 5]


def test_a_stream_deleted_and_its_groups_recreated_before_the_check_loses_nothing(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    async def scenario() -> list[int]:
        relay = relay_for(store, redis_url)
        checks = []
        try:
            with store.transaction() as unit:
                unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)
            checks.append(await relay.republish_lost_entries())

            with store.transaction() as unit:
                unit.append("person-1", 2, [need_surveyed(), need_surveyed()])
            await relay.publish_pending()
            redis_client.delete(STREAM)  # before any group was delivered versions 3 and 4
            with store.transaction() as unit:
                unit.append("person-2", 0, [need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)
            checks.append(await relay.republish_lost_entries())
        finally:
            await relay.redis.aclose()
        return checks

    assert asyncio.run(scenario()) == [0, 4]  # 3 and 4 no group had, 1 and 2 for later subscribers


# -- Redis lost the stream, and its groups were back and caught up before the check --------------------
def two_published_then_redis_lost_them_and_the_groups_read_a_new_one(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """Versions 1 and 2 read by both groups; then Redis loses its data, a new event re-creates the stream,
    and the consumers re-create their groups and read it (within milliseconds, in a deployment)."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    for group in ("assessment", "settlement"):
        redis_client.xgroup_create(STREAM, group, id="0")
    both_groups_read_everything(redis_client)
    redis_client.flushall()
    with store.transaction() as unit:
        unit.append("person-2", 0, [need_surveyed()])
    publish(store, redis_url)
    for group in ("assessment", "settlement"):
        redis_client.xgroup_create(STREAM, group, id="0")
    both_groups_read_everything(redis_client)


def test_a_stream_redis_lost_is_restored_though_its_groups_had_caught_up_before_the_check(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """The groups alone cannot tell this from a trim behind every group: the stream's entries-added can."""

    async def scenario() -> list[int]:
        relay = relay_for(store, redis_url)
        checks = []
        try:
            with store.transaction() as unit:
                unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)
            checks.append(await relay.republish_lost_entries())

            redis_client.flushall()
            with store.transaction() as unit:
                unit.append("person-2", 0, [need_surveyed()])
            await relay.publish_pending()
            for group in ("assessment", "settlement"):
                redis_client.xgroup_create(STREAM, group, id="0")
            both_groups_read_everything(redis_client)
            checks.append(await relay.republish_lost_entries())
            await relay.publish_pending()
        finally:
            await relay.redis.aclose()
        return checks

    assert asyncio.run(scenario()) == [0, 2]
    assert sorted(fields["stream_id"] for _id, fields in entries(redis_client, STREAM)) == [
        "person-1",
        "person-1",
        "person-2",
    ]


def test_a_relay_started_after_redis_lost_the_stream_restores_it_at_its_first_check(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """A relay that never saw the stream before compares it with the events its outbox published."""
    two_published_then_redis_lost_them_and_the_groups_read_a_new_one(store, redis_url, redis_client)

    assert republish_lost(store, redis_url) == 2
    assert publish(store, redis_url) == 2
    assert redis_client.xlen(STREAM) == 3


def test_a_lost_stream_is_restored_for_the_retention_period_only(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    two_published_then_redis_lost_them_and_the_groups_read_a_new_one(store, redis_url, redis_client)
    time.sleep(0.05)

    async def check(restore_seconds: float) -> int:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM, restore_seconds=restore_seconds)
        try:
            return await relay.republish_lost_entries()
        finally:
            await relay.redis.aclose()

    assert asyncio.run(check(restore_seconds=0.02)) == 0  # both groups had them, and they are older
    assert asyncio.run(check(restore_seconds=3600)) == 2


def test_an_expected_group_the_relay_never_saw_counts_from_the_stream_start(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    """Settlement's group vanished before this relay started: only assessment's is on the stream."""
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed(), need_surveyed()])
    publish(store, redis_url)
    redis_client.xgroup_create(STREAM, "assessment", id="0")
    both_groups_read_everything(redis_client)  # assessment only
    redis_client.xtrim(STREAM, maxlen=0)

    async def check(expected: tuple[str, ...]) -> int:
        relay = OutboxRelay(store, Redis.from_url(redis_url), STREAM, expected_groups=expected)
        try:
            return await relay.republish_lost_entries()
        finally:
            await relay.redis.aclose()

    assert asyncio.run(check(expected=())) == 0  # assessment had both
    assert asyncio.run(check(expected=("assessment", "settlement"))) == 2


def test_pending_entries_acknowledged_between_the_two_reads_leave_the_floor_at_the_last_delivered(
    store: EventStore,
) -> None:
    relay = OutboxRelay(store, PendingAcknowledgedMeanwhile("settlement"), STREAM)  # type: ignore[arg-type]

    floor = asyncio.run(relay._delivery_floor())

    assert floor == (1700000000000, 6)


def test_an_unexpected_error_does_not_end_the_relay_it_publishes_on(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])

    async def run_a_while() -> None:
        relay = relay_for(store, redis_url)
        checks = 0
        real_check = relay.republish_lost_entries

        async def failing_once() -> int:
            nonlocal checks
            checks += 1
            if checks == 1:
                raise ValueError("a defect in the loss check")
            return await real_check()

        relay.republish_lost_entries = failing_once  # type: ignore[method-assign]
        relay.loss_check_seconds = 0.0
        task = asyncio.create_task(relay.run())
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if entries(redis_client, STREAM):
                    break
            assert not task.done(), task
            assert checks >= 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await relay.redis.aclose()

    asyncio.run(run_a_while())

    assert len(entries(redis_client, STREAM)) == 1


def test_a_command_committed_in_a_worker_thread_wakes_the_relay_at_once(
    store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    def published_within(seconds: float) -> bool:  # waits outside the loop, which nothing else wakes
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if entries(redis_client, STREAM):
                return True
            time.sleep(0.02)
        return False

    async def commit_in_a_thread_while_the_relay_idles() -> bool:
        relay = OutboxRelay(
            store, Redis.from_url(redis_url), STREAM, idle_seconds=60.0, loss_check_seconds=3600
        )
        task = asyncio.create_task(relay.run())
        try:
            await asyncio.sleep(0.2)  # the relay has published nothing and waits for a wake-up

            def command_then_wait() -> bool:  # as a route runs: in a worker thread, then notify
                with store.transaction() as unit:
                    unit.append("person-1", 0, [need_surveyed()])
                relay.notify()
                return published_within(5.0)

            return await asyncio.to_thread(command_then_wait)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await relay.redis.aclose()

    assert asyncio.run(commit_in_a_thread_while_the_relay_idles())
