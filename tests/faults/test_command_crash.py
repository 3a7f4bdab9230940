"""A service killed while handling a command, and the client's retry with the same Idempotency-Key;
ten concurrent retries of one command; two concurrent writers on one aggregate. Against the real
survey process: exactly one set of events per command, and every retry gets the original answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.people import certified_adult
from tests.faults.support import (
    YEAR,
    assert_nothing_lost_nor_paid_twice,
    restart,
    settled_once_each,
    wait_clean,
    wait_killed_by_fault,
)
from tests.problem_json import problem_of

pytestmark = pytest.mark.e2e

REPLAYED = "Idempotent-Replayed"


def registration(sequence: int) -> dict[str, Any]:
    return {
        **certified_adult(sequence, street="礼嘉", category="mental", digit=6),
        "registered_on": f"{YEAR}-03-01",
    }


def survey_body(surveyor: str = "社区康复协调员 张丽") -> dict[str, Any]:
    return {
        "survey_year": YEAR,
        "surveyed_on": f"{YEAR}-03-15",
        "has_needs": True,
        "needed_items": ["support_service_mental"],
        "home_visit_required": False,
        "surveyor": surveyor,
    }


def register_with_key(deployment: Deployment, sequence: int, key: str) -> httpx.Response:
    journey = deployment.journey
    return journey.client.post(
        journey.url("survey") + "/persons", json=registration(sequence), headers={"Idempotency-Key": key}
    )


def persons_with_id_number(deployment: Deployment, sequence: int) -> list[dict[str, Any]]:
    page = deployment.journey.get("survey", "/persons", id_number=registration(sequence)["id_number"])
    return list(page["items"])


def crash_on_the_command(deployment: Deployment, fault: str, sequence: int, key: str) -> None:
    """Survey dies at the fault point while registering; the client sees its connection drop."""
    restart(deployment, "survey", fault=fault)
    with pytest.raises(httpx.TransportError):
        register_with_key(deployment, sequence, key)
    wait_killed_by_fault(deployment, "survey")
    restart(deployment, "survey")


def test_a_command_killed_before_its_commit_is_recorded_once_by_the_clients_retry(
    deployment: Deployment,
) -> None:
    crash_on_the_command(deployment, "store.before_commit", 501, "register-501")
    assert persons_with_id_number(deployment, 501) == []  # nothing of the killed attempt survived

    retry = register_with_key(deployment, 501, "register-501")

    assert retry.status_code == 201 and REPLAYED not in retry.headers  # recorded now, for the first time
    [person] = persons_with_id_number(deployment, 501)
    assert person["person_id"] == retry.json()["person_id"]
    assert_nothing_lost_nor_paid_twice(wait_clean(deployment))


def test_a_command_killed_after_its_commit_answers_the_retry_with_the_original_201_and_location(
    deployment: Deployment,
) -> None:
    crash_on_the_command(deployment, "store.after_commit", 502, "register-502")
    [person] = persons_with_id_number(deployment, 502)  # committed before the process died

    retry = register_with_key(deployment, 502, "register-502")

    assert (retry.status_code, retry.headers[REPLAYED]) == (201, "true")
    assert retry.json() == {"person_id": person["person_id"]}
    assert retry.headers["location"] == f"/persons/{person['person_id']}"
    assert len(persons_with_id_number(deployment, 502)) == 1
    assert_nothing_lost_nor_paid_twice(wait_clean(deployment))


def test_ten_concurrent_retries_of_one_command_record_it_once_and_all_get_the_same_answer(
    deployment: Deployment,
) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: register_with_key(deployment, 503, "register-503"), range(10)))

    assert [answer.status_code for answer in answers] == [201] * 10
    assert len({(answer.text, answer.headers["location"]) for answer in answers}) == 1
    assert sum(answer.headers.get(REPLAYED) == "true" for answer in answers) == 9
    [person] = persons_with_id_number(deployment, 503)
    assert_nothing_lost_nor_paid_twice(wait_clean(deployment))
    settled_once_each(deployment, [])  # registration alone is not paid
    assert person["person_id"] == answers[0].json()["person_id"]


def test_of_two_concurrent_surveys_of_one_person_one_wins_and_the_other_gets_a_clear_409(
    deployment: Deployment,
) -> None:
    journey = deployment.journey
    person_id = register_with_key(deployment, 504, "register-504").json()["person_id"]
    url = f"{journey.url('survey')}/persons/{person_id}/surveys"

    def survey(writer: int) -> httpx.Response:
        body = survey_body(f"调查员{'甲乙'[writer]}")
        return journey.client.post(url, json=body, headers={"Idempotency-Key": f"survey-504-{writer}"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(survey, range(2)))

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert problem_of(loser, 409)["errors"][0]["field"] == "supersedes"  # one survey per person and year
    assert_nothing_lost_nor_paid_twice(wait_clean(deployment))
    settled_once_each(deployment, [person_id])
