"""Every HTTP command of every service takes an Idempotency-Key: a retry gets the original result
and the command's events are recorded once; concurrent writers on one aggregate get a clear 409."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response, status
from fastapi.testclient import TestClient
from pydantic import BaseModel

from kernel.domain.rejections import CommandRejected, StateConflict
from kernel.http import Command
from kernel.runtime import ServiceRuntime, ServiceSettings, create_service_app
from kernel.store import store as store_module
from kernel.store.store import EventStore
from tests.kernel.events import need_surveyed
from tests.problem_json import field_error_of, problem_of

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


class Survey(BaseModel):
    surveyor: str
    expected_version: int | None = None
    wait_for_rival: bool = False
    fail_after_recording: bool = False
    first_only: bool = False


class Recorded(BaseModel):
    event_id: str
    version: int


def survey_router(barrier: threading.Barrier | None = None) -> APIRouter:
    router = APIRouter()

    @router.post("/people/{person_id}/surveys", status_code=status.HTTP_201_CREATED)
    def survey(person_id: UUID, body: Survey, command: Command) -> Response:
        if body.surveyor == "":
            raise CommandRejected("调查员不能为空", field="surveyor")
        stream = f"person-{person_id}"
        with command.runtime.store.reading() as unit:
            version = len(unit.load(stream)) if body.expected_version is None else body.expected_version
        if barrier is not None and body.wait_for_rival:  # both decide on one version, then append
            barrier.wait()
        if body.first_only and version > 0:  # a domain rule: only one survey per person
            raise StateConflict("此人已有调查记录", field="person_id")
        with command.unit() as unit:
            envelope = unit.append(stream, version, [need_surveyed(person_id)])[0]
            if not body.fail_after_recording:
                recorded = Recorded(event_id=str(envelope.event_id), version=envelope.version)
                location = f"/people/{person_id}/surveys/{envelope.version}"
                return command.answer(recorded, status=201, location=location)
        # a later step of the command refuses after its unit committed: its events stay
        raise CommandRejected("后续步骤失败", field="fail_after_recording")

    return router


def survey_app(database: Path, redis_url: str, barrier: threading.Barrier | None = None) -> FastAPI:
    settings = ServiceSettings(service="survey", database_url=f"sqlite:///{database}", redis_url=redis_url)
    return create_service_app(
        settings,
        title="test",
        description="a service with one command",
        routers=[survey_router(barrier)],
        publishes_to=None,
        subscriptions=[],
    )


@pytest.fixture
def client(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    with TestClient(survey_app(tmp_path / "survey.db", redis_url)) as test_client:
        yield test_client


def store_of(client: TestClient) -> EventStore:
    runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime.store


def post(
    client: TestClient, person: UUID, key: str | None, surveyor: str = "王调查", **more: object
) -> httpx.Response:
    headers = {KEY: key} if key is not None else {}
    return client.post(f"/people/{person}/surveys", json={"surveyor": surveyor, **more}, headers=headers)


def test_a_retry_with_the_same_key_gets_the_original_response_and_records_one_event(
    client: TestClient,
) -> None:
    person = uuid4()
    first = post(client, person, "retry-7")
    retry = post(client, person, "retry-7")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    assert store_of(client).counts()["stored"] == 1


def test_commands_without_a_key_work_as_before(client: TestClient) -> None:
    person = uuid4()
    assert post(client, person, None).json()["version"] == 1
    assert post(client, person, None).json()["version"] == 2
    assert store_of(client).counts()["stored"] == 2


def test_a_key_reused_with_a_different_body_is_refused_naming_the_header(client: TestClient) -> None:
    person = uuid4()
    assert post(client, person, "retry-7").status_code == 201
    reused = post(client, person, "retry-7", surveyor="李调查")
    error = field_error_of(reused, 422)
    assert (error["field"], error["code"]) == (KEY, "idempotency.key_reused")
    assert store_of(client).counts()["stored"] == 1


@pytest.mark.parametrize("key", ["x" * 201, "two words", "ключ"])
def test_a_malformed_key_is_refused_before_the_command_runs(client: TestClient, key: str) -> None:
    answer = client.post(
        f"/people/{uuid4()}/surveys", json={"surveyor": "王调查"}, headers={KEY: key.encode()}
    )
    error = field_error_of(answer, 422)
    assert (error["field"], error["code"]) == (KEY, "idempotency.key_invalid")
    assert store_of(client).counts()["stored"] == 0


def test_a_rejected_command_keeps_no_key_so_a_corrected_retry_succeeds(client: TestClient) -> None:
    person = uuid4()
    rejected = post(client, person, "retry-7", surveyor="")
    assert field_error_of(rejected, 422)["field"] == "surveyor"
    corrected = post(client, person, "retry-7")
    assert corrected.status_code == 201 and REPLAYED not in corrected.headers
    assert store_of(client).counts()["stored"] == 1


def test_the_response_is_kept_in_the_transaction_of_the_events_so_no_crash_can_separate_them(
    client: TestClient,
) -> None:
    first = post(client, uuid4(), "retry-7")
    record = store_of(client).idempotency_record("retry-7")
    assert record is not None
    assert (record.status, record.body) == (201, first.content)
    assert ("location", first.headers["location"]) in record.headers
    assert record.event_ids == [first.json()["event_id"]]


def test_a_command_whose_commit_fails_answers_503_records_nothing_and_a_retry_succeeds(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = uuid4()

    def disk_full(*_args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(store_module, "keep_response", disk_full)
        failed = post(client, person, "retry-7")
    assert problem_of(failed, 503)["code"] == "store.not_recorded"
    assert store_of(client).counts()["stored"] == 0
    assert store_of(client).idempotency_record("retry-7") is None
    retry = post(client, person, "retry-7")
    assert retry.status_code == 201 and REPLAYED not in retry.headers
    assert store_of(client).counts()["stored"] == 1


def test_a_retry_of_a_command_that_failed_after_recording_events_names_the_recorded_events(
    client: TestClient,
) -> None:
    person = uuid4()
    failed = post(client, person, "retry-7", fail_after_recording=True)
    assert failed.status_code == 422
    retry = post(client, person, "retry-7", fail_after_recording=True)
    assert retry.status_code == 200
    assert retry.headers[REPLAYED] == "true"
    assert retry.json()["idempotency_key"] == "retry-7"
    [event_id] = retry.json()["event_ids"]
    assert store_of(client).read()[0].envelope.event_id == UUID(event_id)


def test_ten_concurrent_retries_of_one_command_record_one_event_and_all_get_the_original_response(
    client: TestClient,
) -> None:
    person = uuid4()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: post(client, person, "retry-7"), range(10)))
    assert [answer.status_code for answer in answers] == [201] * 10
    assert len({answer.text for answer in answers}) == 1
    assert sum(answer.headers.get(REPLAYED) == "true" for answer in answers) == 9
    assert store_of(client).counts()["stored"] == 1


def test_concurrent_retries_through_two_processes_of_one_service_record_one_event(
    tmp_path: Path, redis_url: str
) -> None:
    person = uuid4()
    database = tmp_path / "shared.db"
    with (
        TestClient(survey_app(database, redis_url)) as one,
        TestClient(survey_app(database, redis_url)) as other,
    ):
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lambda n: post((one, other)[n % 2], person, "retry-7"), range(10)))
        assert {answer.status_code for answer in answers} <= {200, 201}
        assert sum(answer.headers.get(REPLAYED) != "true" for answer in answers) == 1
        event_ids = {answer.json().get("event_id") or answer.json()["event_ids"][0] for answer in answers}
        assert len(event_ids) == 1
        assert store_of(one).counts()["stored"] == 1


def test_a_retry_refused_by_a_rule_because_its_twin_in_another_process_was_recorded_gets_the_original_answer(
    tmp_path: Path, redis_url: str
) -> None:
    person = uuid4()
    database = tmp_path / "shared.db"
    with (
        TestClient(survey_app(database, redis_url)) as one,
        TestClient(survey_app(database, redis_url)) as other,
    ):
        first = post(one, person, "retry-7", first_only=True)
        # The other process did not see the key when the retry arrived, so it runs the command,
        # which a rule refuses (the survey exists): it answers what the key was recorded with.
        record = store_of(other).idempotency_record
        with pytest.MonkeyPatch.context() as patch:
            calls: list[str] = []

            def unseen_first(key: str) -> Any:
                calls.append(key)
                return None if len(calls) == 1 else record(key)

            patch.setattr(store_of(other), "idempotency_record", unseen_first)
            retry = post(other, person, "retry-7", first_only=True)
        assert (retry.status_code, retry.headers[REPLAYED]) == (201, "true")
        assert retry.json() == first.json()
        assert store_of(one).counts()["stored"] == 1


def test_of_two_concurrent_commands_on_one_aggregate_one_wins_and_the_other_gets_a_409(
    tmp_path: Path, redis_url: str
) -> None:
    barrier = threading.Barrier(2, timeout=10)
    person = uuid4()
    with TestClient(survey_app(tmp_path / "survey.db", redis_url, barrier)) as client:
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(
                pool.map(lambda n: post(client, person, f"writer-{n}", wait_for_rival=True), range(2))
            )
        assert sorted(answer.status_code for answer in answers) == [201, 409]
        conflict = next(answer for answer in answers if answer.status_code == 409)
        assert problem_of(conflict, 409)["code"] == "concurrency.conflict"
        assert store_of(client).counts()["stored"] == 1
        # the loser's key kept nothing: retrying it now succeeds on the new version
        loser = "writer-0" if answers[0].status_code == 409 else "writer-1"
        assert post(client, person, loser).json()["version"] == 2
