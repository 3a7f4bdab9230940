"""The store records a command's Idempotency-Key in the transaction of its events, on every backend."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from kernel.store.keyed import IdempotencyKeyInUse, IdempotentRequest
from kernel.store.store import EventStore
from kernel.web.idempotency import key_problem, request_hash
from tests.kernel.events import need_surveyed


def keyed(key: str = "retry-1", request_hash: str = "h1") -> IdempotentRequest:
    return IdempotentRequest(key=key, request_hash=request_hash, request_id=str(uuid4()))


def test_a_keyed_append_records_the_key_with_its_event_ids_and_no_response_yet(store: EventStore) -> None:
    with store.transaction(keyed()) as unit:
        written = unit.append("person-1", 0, [need_surveyed()])
    record = store.idempotency_record("retry-1")
    assert record is not None
    assert record.request_hash == "h1"
    assert record.event_ids == [str(written[0].event_id)]
    assert record.status is None and record.body is None


def test_a_keyed_command_commits_its_events_only_with_its_response(store: EventStore) -> None:
    request = keyed()
    answer = (201, [("location", "/persons/1")], b'{"person_id":"1"}')
    with store.transaction(request) as unit:
        unit.append("person-1", 0, [need_surveyed()])
        assert store.counts()["stored"] == 0  # not committed while the answer is being written
        assert store.idempotency_record("retry-1") is None
        assert len(unit.load("person-1")) == 1  # but the command itself reads what it recorded
        unit.keep_answer(answer)
    record = store.idempotency_record("retry-1")
    assert record is not None
    assert (record.status, record.headers, record.body) == answer
    assert store.counts()["stored"] == 1


def test_a_keyed_command_that_fails_before_its_commit_leaves_neither_events_nor_key(
    store: EventStore,
) -> None:
    request = keyed()
    with store.transaction() as unit:
        unit.append("person-0", 0, [need_surveyed()])
    with pytest.raises(SystemExit), store.transaction(request) as unit:
        unit.append("person-1", 0, [need_surveyed()])
        raise SystemExit  # the process died: its open transaction is rolled back
    assert store.idempotency_record("retry-1") is None
    assert store.counts()["stored"] == 1


def test_an_append_without_a_key_records_no_key(store: EventStore) -> None:
    with store.transaction() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    assert store.idempotency_record("retry-1") is None


def test_a_rolled_back_command_leaves_neither_its_events_nor_its_key(store: EventStore) -> None:
    with pytest.raises(RuntimeError), store.transaction(keyed()) as unit:
        unit.append("person-1", 0, [need_surveyed()])
        raise RuntimeError("crash before commit")
    assert store.idempotency_record("retry-1") is None
    assert store.counts()["stored"] == 0


def test_another_request_with_a_recorded_key_fails_and_records_no_event(store: EventStore) -> None:
    with store.transaction(keyed()) as unit:
        unit.append("person-1", 0, [need_surveyed()])
    with pytest.raises(IdempotencyKeyInUse), store.transaction(keyed()) as unit:
        unit.append("person-2", 0, [need_surveyed()])
    assert store.counts()["stored"] == 1


def test_one_command_appending_in_two_transactions_keeps_all_its_event_ids(store: EventStore) -> None:
    request = keyed()
    with store.transaction(request) as unit:
        first = unit.append("person-1", 0, [need_surveyed()])
        second = unit.append("person-2", 0, [need_surveyed()])
    with store.transaction(request) as unit:
        third = unit.append("person-3", 0, [need_surveyed()])
    record = store.idempotency_record("retry-1")
    assert record is not None
    assert record.event_ids == [str(e.event_id) for e in (*first, *second, *third)]


def test_the_response_of_a_keyed_command_is_kept_with_its_key(store: EventStore) -> None:
    request = keyed()
    with store.transaction(request) as unit:
        unit.append("person-1", 0, [need_surveyed()])
    store.record_response(request, 201, [("content-type", "application/json")], b'{"id":"1"}')
    record = store.idempotency_record("retry-1")
    assert record is not None
    assert (record.status, record.headers, record.body) == (
        201,
        [("content-type", "application/json")],
        b'{"id":"1"}',
    )
    assert len(record.event_ids) == 1


def test_the_response_of_a_keyed_command_without_events_is_kept_too(store: EventStore) -> None:
    store.record_response(keyed(), 200, [], b"{}")
    record = store.idempotency_record("retry-1")
    assert record is not None
    assert (record.status, record.event_ids) == (200, [])


def test_of_concurrent_transactions_with_one_key_exactly_one_records_its_event(store: EventStore) -> None:
    attempts = 6
    barrier = threading.Barrier(attempts, timeout=10)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with store.transaction(keyed()) as unit:
                unit.append(f"person-{uuid4()}", 0, [need_surveyed()])
            outcomes.append("recorded")
        except IdempotencyKeyInUse:
            outcomes.append("in use")

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["in use"] * (attempts - 1) + ["recorded"]
    assert store.counts()["stored"] == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "with space", "tab\t", "ключ", "\x7f"])
def test_a_key_that_is_not_1_to_200_visible_ascii_characters_is_refused(key: str) -> None:
    assert key_problem(key) is not None


@pytest.mark.parametrize("key", ["a", "x" * 200, "7f9c2d1e-0b5a-4c8e-9d3f-2a1b0c9d8e7f", "!~"])
def test_a_key_of_visible_ascii_characters_is_accepted(key: str) -> None:
    assert key_problem(key) is None


def test_the_request_hash_ignores_json_key_order_and_spacing_but_not_values() -> None:
    def of(body: bytes) -> str:
        return request_hash("POST", "/people", b"", "application/json", body)

    assert of(b'{"a": 1, "b": [2, 3]}') == of(b'{"b":[2,3],"a":1}')
    assert of(b'{"a": 1}') != of(b'{"a": 2}')
    assert request_hash("POST", "/a", b"", "application/json", b"{}") != request_hash(
        "PUT", "/a", b"", "application/json", b"{}"
    )
    assert request_hash("POST", "/a", b"x=1", "", b"") != request_hash("POST", "/a", b"x=2", "", b"")


def test_the_request_hash_of_a_multipart_form_ignores_its_boundary() -> None:
    def form(boundary: str, content: str) -> tuple[str, bytes]:
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="street"\r\n\r\n鸳鸯街道\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
        )
        return f"multipart/form-data; boundary={boundary}", body.encode()

    def of(boundary: str, content: str) -> str:
        return request_hash("POST", "/imports", b"", *form(boundary, content))

    assert of("aaa111", "a,b\n1,2") == of("zzz999", "a,b\n1,2")
    assert of("aaa111", "a,b\n1,2") != of("aaa111", "a,b\n1,3")


def test_keys_recorded_before_a_time_are_forgotten_with_their_responses_and_later_ones_kept(
    store: EventStore,
) -> None:
    from datetime import UTC, datetime, timedelta

    with store.transaction(keyed("old-1")) as unit:
        unit.append("person-1", 0, [need_surveyed()])
        unit.keep_answer((201, [], b'{"id":"1"}'))
    cutoff = datetime.now(UTC) + timedelta(seconds=1)  # after old-1 was recorded
    assert store.forget_idempotency_keys(recorded_before=cutoff - timedelta(days=1)) == 0
    assert store.forget_idempotency_keys(recorded_before=cutoff) == 1
    assert store.idempotency_record("old-1") is None
    assert store.counts()["stored"] == 1  # the events stay: only the retry guard is gone
