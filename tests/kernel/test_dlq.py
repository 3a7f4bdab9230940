"""`rehab dlq`: list dead letters, and retry one after a fix so it is applied exactly once."""

from __future__ import annotations

import json

import pytest
import redis
from rehab_contracts import EventEnvelope, EventPayload

from kernel.messaging.consumer import EventRejected, dead_letter_stream
from kernel.store.store import EventStore, UnitOfWork
from rehab.cli import main
from rehab.dlq import DeadLetterNotFound, dead_letters, retry
from tests.kernel.consuming import (
    GROUP,
    STREAM,
    SURVEYED,
    applied,
    consumer_for,
    record_applied,
    surveys_of_one_person,
)
from tests.kernel.test_consumer import run_consumer_while, wait_for
from tests.streams import add, entries


class SwitchableHandler:
    """Rejects every event until the bug is fixed."""

    def __init__(self) -> None:
        self.fixed = False

    def __call__(self, unit: UnitOfWork, envelope: EventEnvelope, payload: EventPayload) -> None:
        if not self.fixed:
            raise EventRejected("the street is not in this jurisdiction")
        record_applied(unit, envelope, payload)


def dead_letter_ids(redis_client: redis.Redis) -> list[str]:
    return [entry_id for entry_id, _fields in entries(redis_client, dead_letter_stream(GROUP))]


def test_a_fixed_poison_event_is_applied_once_after_retry_and_its_dead_letter_removed(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    handler = SwitchableHandler()
    consumer = consumer_for(sqlite_store, {SURVEYED: handler})
    first, second = surveys_of_one_person(sqlite_store, 2)
    for envelope in (first, second):
        add(redis_client, STREAM, envelope.to_wire())

    def poison_then_fix_and_retry() -> None:
        wait_for(lambda: len(dead_letter_ids(redis_client)) == 1)  # version 2 is parked behind it
        handler.fixed = True
        [dead_id] = dead_letter_ids(redis_client)
        retry(redis_client, GROUP, dead_id)
        wait_for(lambda: len(applied(sqlite_store)) == 2)

    run_consumer_while(consumer, redis_url, poison_then_fix_and_retry)
    assert applied(sqlite_store) == [("person-1", 1), ("person-1", 2)]
    assert dead_letter_ids(redis_client) == []


def test_retrying_an_event_that_was_already_applied_has_no_second_effect(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    consumer = consumer_for(sqlite_store)
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    consumer.receive(envelope, STREAM)
    dead_id = add(
        redis_client,
        dead_letter_stream(GROUP),
        {"source_stream": STREAM, "reason": "timed out", "fields": _json_fields(envelope)},
    )

    retry(redis_client, GROUP, dead_id)

    def retried_entry_handled() -> None:
        wait_for(lambda: redis_client.xinfo_groups(STREAM)[0]["entries-read"] == 1)
        wait_for(lambda: redis_client.xpending(STREAM, GROUP)["pending"] == 0)

    run_consumer_while(consumer, redis_url, retried_entry_handled)
    assert applied(sqlite_store) == [("person-1", 1)]
    assert dead_letter_ids(redis_client) == []


def test_a_dead_letter_stays_when_republishing_it_fails(
    sqlite_store: EventStore, redis_client: redis.Redis
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    redis_client.set(STREAM, "not a stream")  # XADD to it fails with WRONGTYPE
    dead_id = add(
        redis_client,
        dead_letter_stream(GROUP),
        {"source_stream": STREAM, "reason": "x", "fields": _json_fields(envelope)},
    )

    with pytest.raises(redis.ResponseError):
        retry(redis_client, GROUP, dead_id)
    assert dead_letter_ids(redis_client) == [dead_id]


def test_rehab_dlq_list_shows_each_dead_letter_with_its_id_source_reason_and_time(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    dead_id = add(
        redis_client,
        dead_letter_stream(GROUP),
        {
            "source_stream": STREAM,
            "source_entry_id": "1700000000000-0",
            "consumer_group": GROUP,
            "reason": "EventRejected: the street is not in this jurisdiction",
            "delivery_count": "1",
            "dead_lettered_at": "2026-11-22T10:00:00+00:00",
            "fields": _json_fields(envelope),
        },
    )

    assert main(["dlq", "list", "--redis-url", redis_url]) == 0
    out = capsys.readouterr().out
    assert dead_id in out
    assert f"{STREAM} 1700000000000-0" in out
    assert "not in this jurisdiction" in out
    assert "2026-11-22 10:00:00" in out
    assert str(envelope.event_id) in out
    assert [letter.id for _service, letter in dead_letters(redis_client, [GROUP])] == [dead_id]

    assert main(["dlq", "list", "--service", "survey", "--redis-url", redis_url]) == 0
    assert "no dead letters" in capsys.readouterr().out


def test_rehab_dlq_retry_republishes_and_an_unknown_id_is_refused(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    dead_id = add(
        redis_client,
        dead_letter_stream(GROUP),
        {"source_stream": STREAM, "reason": "x", "fields": _json_fields(envelope)},
    )

    assert main(["dlq", "retry", dead_id, "--service", GROUP, "--redis-url", redis_url]) == 0
    [(_id, fields)] = entries(redis_client, STREAM)
    assert EventEnvelope.from_wire(fields) == envelope
    assert main(["dlq", "retry", dead_id, "--service", GROUP, "--redis-url", redis_url]) == 1
    assert "no dead letter" in capsys.readouterr().err
    assert main(["dlq", "retry", "--redis-url", redis_url]) == 2
    with pytest.raises(DeadLetterNotFound):
        retry(redis_client, GROUP, "1-0")


def _json_fields(envelope: EventEnvelope) -> str:
    return json.dumps(envelope.to_wire(), ensure_ascii=False)


def dead_letter_of(redis_client: redis.Redis, service: str, envelope: EventEnvelope, reason: str) -> str:
    fields = {"source_stream": STREAM, "consumer_group": service, "reason": reason, "delivery_count": "5"}
    return add(redis_client, dead_letter_stream(service), {**fields, "fields": _json_fields(envelope)})


DISK_FULL = "failed on each of 5 deliveries; last: OperationalError: database or disk is full"


def test_rehab_dlq_retry_all_republishes_the_dead_letters_of_a_reason_and_a_service_each_event_once(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, defect 8: after a full disk, 41 dead letters had to be retried one by one."""
    first, second, rejected = surveys_of_one_person(sqlite_store, 3)
    for envelope in (first, second):
        dead_letter_of(redis_client, "assessment", envelope, DISK_FULL)
        dead_letter_of(redis_client, "settlement", envelope, DISK_FULL)
    kept = dead_letter_of(redis_client, "assessment", rejected, "EventRejected: not in this jurisdiction")

    command = ["dlq", "retry", "--all", "--reason", "DISK IS FULL", "--redis-url", redis_url]
    assert main([*command, "--service", "assessment"]) == 0

    assert "re-published 2 dead letters of assessment (2 events)" in capsys.readouterr().out
    assert [EventEnvelope.from_wire(fields) for _id, fields in entries(redis_client, STREAM)] == [
        first,
        second,
    ]
    assert dead_letter_ids_of(redis_client, "assessment") == [kept]
    assert len(dead_letter_ids_of(redis_client, "settlement")) == 2

    assert main(["dlq", "retry", "--all", "--redis-url", redis_url]) == 0

    assert "re-published 3 dead letters of assessment, settlement (3 events)" in capsys.readouterr().out
    assert (
        dead_letter_ids_of(redis_client, "assessment") == dead_letter_ids_of(redis_client, "settlement") == []
    )
    republished = [EventEnvelope.from_wire(fields) for _id, fields in entries(redis_client, STREAM)]
    assert republished == [first, second, rejected, first, second]  # each event once per bulk retry


def test_rehab_dlq_retry_all_with_an_id_or_without_any_match_is_refused_or_a_no_op(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dlq", "retry", "1-0", "--all", "--redis-url", redis_url]) == 2
    assert "either a dead-letter id or --all" in capsys.readouterr().err
    assert main(["dlq", "retry", "--all", "--reason", "nothing like it", "--redis-url", redis_url]) == 0
    assert "no dead letters to re-publish" in capsys.readouterr().out


def test_rehab_dlq_list_escapes_control_characters_so_a_reason_cannot_forge_a_row(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, defect 7: text from an entry reaches the operator's table."""
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    forged_row = "\nsettlement  1700000000000-0 2026-11-22 10:00:00 rehab.survey.events ok\x1b[2K\u202e"
    dead_letter_of(redis_client, "assessment", envelope, "EventRejected: no" + forged_row)

    assert main(["dlq", "list", "--redis-url", redis_url]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the header and the one dead letter
    assert "EventRejected: no\\nsettlement  1700000000000-0" in lines[1]
    assert "\\x1b[2K\\u202e" in lines[1]


def dead_letter_ids_of(redis_client: redis.Redis, service: str) -> list[str]:
    return [entry_id for entry_id, _fields in entries(redis_client, dead_letter_stream(service))]
