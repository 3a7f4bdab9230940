"""A dead letter says why in one short Chinese sentence with a machine code (field paths for a broken
contract), and keeps the technical text — pydantic's whole dump, the exception — in ``detail``."""

from __future__ import annotations

import redis
from pydantic import ValidationError
from rehab_contracts import EventEnvelope
from rehab_contracts.registry import UnknownEventType

from kernel.messaging.consumer import dead_letter_stream
from kernel.messaging.dead_letter_reasons import reason_of
from kernel.messaging.dead_letters import DeadLetter
from kernel.messaging.outcomes import EventConflict, EventRejected
from kernel.store.store import EventStore
from rehab.dlq import dead_letter_rows, dead_letters
from tests.kernel.consuming import GROUP, STREAM, consumer_for, surveys_of_one_person
from tests.kernel.test_consumer import run_consumer_while, wait_for
from tests.streams import add, entries


def test_a_broken_contract_is_dead_lettered_with_a_chinese_line_naming_the_fields_and_the_dump_in_detail(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [broken] = surveys_of_one_person(sqlite_store, 1)
    payload = {**broken.payload, "needed_items": "not a list"}
    del payload["street"]
    add(redis_client, STREAM, broken.model_copy(update={"payload": payload}).to_wire())
    dead = dead_letter_stream(GROUP)

    run_consumer_while(
        consumer_for(sqlite_store), redis_url, lambda: wait_for(lambda: redis_client.xlen(dead) > 0)
    )
    [letter] = [DeadLetter.from_entry(*entry) for entry in entries(redis_client, dead)]

    assert letter.code == "event.invalid"
    assert letter.reason.startswith("事件不符合契约 NeedSurveyed：")
    assert "payload.street 缺少" in letter.reason and "payload.needed_items 值无效" in letter.reason
    assert letter.reason.endswith("［event.invalid］")
    assert (
        "\n" not in letter.reason and "http" not in letter.reason and "validation error" not in letter.reason
    )
    assert letter.detail.startswith("ValidationError: 2 validation errors for ")
    assert "errors.pydantic.dev" in letter.detail and "\n" in letter.detail


def test_rehab_dlq_list_shows_the_chinese_reason_not_the_exception(
    sqlite_store: EventStore, redis_url: str, redis_client: redis.Redis
) -> None:
    [unknown] = surveys_of_one_person(sqlite_store, 1)
    add(redis_client, STREAM, unknown.model_copy(update={"event_type": "survey.person_teleported"}).to_wire())
    dead = dead_letter_stream(GROUP)
    run_consumer_while(
        consumer_for(sqlite_store), redis_url, lambda: wait_for(lambda: redis_client.xlen(dead) > 0)
    )

    [row] = dead_letter_rows(dead_letters(redis_client, [GROUP]))
    assert row[-1] == "不认识的事件类型（本服务的契约没有它）［event.unknown_type］"


def _validation_error(envelope: EventEnvelope) -> ValidationError:
    try:
        EventEnvelope.model_validate({**envelope.model_dump(), "event_id": "x", "version": 0})
    except ValidationError as error:
        return error
    raise AssertionError("valid")


def test_each_kind_of_refusal_has_its_code_and_a_failing_handler_its_attempts(
    sqlite_store: EventStore,
) -> None:
    [envelope] = surveys_of_one_person(sqlite_store, 1)
    cases = {
        UnknownEventType("unknown event type 'x'"): "event.unknown_type",
        EventConflict("person-1 version 1 was already applied"): "event.conflict",
        EventRejected("the street is not in this jurisdiction"): "event.rejected",
        ValueError("stream entry lacks fields: payload"): "entry.malformed",
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"): "entry.not_utf8",
    }
    for error, code in cases.items():
        reason = reason_of(error)
        assert (reason.code, reason.detail) == (code, f"{type(error).__name__}: {error}")
        assert reason.text.endswith(f"［{code}］") and "Error" not in reason.text
    envelope_error = reason_of(_validation_error(envelope))
    assert "事件不符合契约 EventEnvelope：event_id 值无效、version 值无效" in envelope_error.text
    failing = reason_of(RuntimeError("a bug"), attempts=5)
    assert failing.text == "投递 5 次均失败（程序错误 RuntimeError，详见 detail）［delivery.failed］"
    assert failing.detail == "failed on each of 5 deliveries; last: RuntimeError: a bug"
