"""Settlement fetches persons' data keys in batches before a document (附件3) asks for them one by one, keeps
its cache's rules, and reads a failed batch as unavailable (real survey app over HTTP, real Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from rehab_contracts.sealed import REDACTED, UNAVAILABLE, DataKey

from services.settlement.documents import person_keys
from services.settlement.documents.person_keys import PersonKeys, SurveyKeyClient
from services.settlement.documents.register import REGISTER_EVENT_TYPES, year_register
from services.settlement.ledger.archive import archive
from tests.settlement import test_settlement_personal_data as personal_data
from tests.settlement.test_settlement_personal_data import (
    WANG_ID,
    ZHANG_ID,
    engine_of,
    forward,
    register_and_survey,
    token,
)
from tests.survey.people import make_id

survey, settlement = personal_data.survey, personal_data.settlement  # fixtures: apps with keys


def counted(client: TestClient) -> list[str]:
    """Each request the client sends from now on, as ``METHOD path``."""
    sent: list[str] = []
    client.event_hooks = {"request": [lambda request: sent.append(f"{request.method} {request.url.path}")]}
    return sent


def test_a_year_register_prefetched_in_one_request_names_every_person_and_asks_nothing_more(
    survey: TestClient, settlement: TestClient
) -> None:
    zhang = register_and_survey(survey, "张华", ZHANG_ID)
    wang = register_and_survey(survey, "王五", WANG_ID)
    third = register_and_survey(survey, "李四", make_id(date(1958, 4, 12), "235"))
    forward(survey, settlement)
    keys, sent = PersonKeys(SurveyKeyClient(survey, token("settlement"))), counted(survey)

    keys.prefetch([zhang, wang, third])
    register = year_register(archive(engine_of(settlement), REGISTER_EVENT_TYPES), 2024, keys)

    assert sent == ["POST /persons/data-keys:batch"]
    assert sorted(details.name for details in register.persons.values()) == ["张华", "李四", "王五"]


def test_a_forgotten_person_reads_redacted_from_the_batch_without_asking_again(
    survey: TestClient,
) -> None:
    kept = register_and_survey(survey, "张华", ZHANG_ID)
    gone = register_and_survey(survey, "王五", WANG_ID)
    survey.post(f"/persons/{gone}/forget")
    keys, sent = PersonKeys(SurveyKeyClient(survey, token("settlement"))), counted(survey)

    keys.prefetch([kept, gone, kept])

    assert isinstance(keys.key_for(kept), DataKey) and keys.key_for(gone) == REDACTED
    assert sent == ["POST /persons/data-keys:batch"] and keys.holds(kept) and not keys.holds(gone)


def test_a_fresh_key_is_not_fetched_again_and_an_expired_one_is(survey: TestClient) -> None:
    person = register_and_survey(survey, "张华", ZHANG_ID)
    now = [0.0]
    keys = PersonKeys(SurveyKeyClient(survey, token("settlement")), keep_seconds=300, clock=lambda: now[0])
    keys.prefetch([person])
    sent = counted(survey)

    keys.prefetch([person])
    now[0] = 301.0
    keys.prefetch([person])
    keys.drop(person)

    assert sent == ["POST /persons/data-keys:batch"] and not keys.holds(person)


def test_a_document_of_many_persons_is_fetched_in_batches_of_the_registrys_maximum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(person_keys, "BATCH_SIZE", 2)
    asked: list[list[str]] = []

    def registry(request: httpx.Request) -> httpx.Response:
        person_ids = json.loads(request.content)["person_ids"]
        asked.append(person_ids)
        return httpx.Response(
            200, json={"keys": [], "forgotten": person_ids, "without_key": [], "unknown": []}
        )

    found = client_of(registry).fetch_many(["a", "b", "c", "d", "e"])

    assert asked == [["a", "b"], ["c", "d"], ["e"]] and found == dict.fromkeys("abcde", REDACTED)


def client_of(answer: Callable[[httpx.Request], httpx.Response]) -> SurveyKeyClient:
    return SurveyKeyClient(httpx.Client(base_url="http://survey", transport=httpx.MockTransport(answer)), "t")


def refused(request: httpx.Request) -> httpx.Response:
    return httpx.Response(403, json={"code": "survey.data_key.not_entitled"})


def malformed(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"keys": [{"person_id": "a"}]})


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"<html>proxy error</html>")


@pytest.mark.parametrize("answer", [refused, malformed, unreachable, not_json])
def test_a_batch_that_fails_reads_unavailable_for_each_person(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    assert client_of(answer).fetch_many(["a", "b"]) == {"a": UNAVAILABLE, "b": UNAVAILABLE}


def test_a_registry_without_batch_release_is_asked_one_person_at_a_time() -> None:
    key = DataKey.new()
    sent: list[str] = []

    def old_registry(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(404, json={"code": "http.not_found"})
        if request.url.path == "/persons/a/data-key":
            return httpx.Response(
                200, json={"person_id": "a", "key_id": key.key_id, "key": key.secret_text()}
            )
        return httpx.Response(410, json={"code": "survey.data_key.destroyed"})

    found = client_of(old_registry).fetch_many(["a", "b"])

    assert found == {"a": key, "b": REDACTED}
    assert sent == ["POST /persons/data-keys:batch", "GET /persons/a/data-key", "GET /persons/b/data-key"]


class SingleSource:
    """A key source that knows no batches: prefetch asks it person by person."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def fetch(self, person_id: str) -> DataKey | str:
        self.asked.append(person_id)
        return UNAVAILABLE


def test_prefetch_asks_a_source_without_batches_once_per_person_and_serves_each_answer_once() -> None:
    source = SingleSource()
    keys = PersonKeys(source)

    keys.prefetch(["a", "b", "a"])
    answers = [keys.key_for("a"), keys.key_for("b")]
    retried = keys.key_for("a")  # an unavailable key is asked for again, as before batches

    assert answers == [UNAVAILABLE, UNAVAILABLE] and retried == UNAVAILABLE
    assert source.asked == ["a", "b", "a"]


def test_the_year_register_fetches_its_keys_in_one_batch_request_and_asks_nothing_for_the_forgotten(
    survey: TestClient, settlement: TestClient
) -> None:
    for serial, name in (("231", "张华"), ("233", "王五"), ("235", "李四")):
        register_and_survey(survey, name, make_id(date(1958, 4, 12), serial))
    gone = register_and_survey(survey, "赵六", make_id(date(1958, 4, 12), "237"))
    assert survey.post(f"/persons/{gone}/forget").status_code == 200
    forward(survey, settlement)
    keys = PersonKeys(SurveyKeyClient(survey, token("settlement")))
    sent = counted(survey)
    register = year_register(archive(engine_of(settlement), REGISTER_EVENT_TYPES), 2024, keys)
    assert sent == ["POST /persons/data-keys:batch"]
    assert sorted(details.name for details in register.persons.values()) == ["张华", "李四", "王五", REDACTED]
