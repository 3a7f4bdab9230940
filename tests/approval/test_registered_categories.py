"""附件2's 残疾类别 are the person's: a form ticking other categories than the year's needs survey recorded
(carried by the referral) is refused at the field; a referral issued before it carried them checks nothing."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi.testclient import TestClient
from rehab_contracts import ASSESSMENT_STREAM, EventEnvelope

from tests.approval.test_api import application, client, referral_envelope, runtime, stored_types
from tests.problem_json import field_error_of

__all__ = ["client"]


def recorded_as(client: TestClient, categories: list[str] | None) -> UUID:
    """A person whose referral (carrying the survey's categories, when given) reached approval."""
    person_id = uuid4()
    envelope = referral_envelope(person_id)
    payload = {**envelope.payload, "disability_categories": categories}
    consumer = runtime(client).consumer
    assert consumer is not None
    consumer.apply(EventEnvelope(**{**envelope.model_dump(), "payload": payload}), ASSESSMENT_STREAM)
    return person_id


def test_a_form_ticking_another_category_than_the_survey_recorded_is_refused_naming_both(
    client: TestClient,
) -> None:
    person_id = recorded_as(client, ["vision"])
    body = application(person_id, disability_categories=["hearing"])
    error = field_error_of(client.post("/applications", json=body), 422)
    assert (error["field"], error["code"]) == (
        "disability_categories",
        "approval.disability_categories.not_registered",
    )
    assert "听力" in error["message"] and "视力" in error["message"]
    assert stored_types(client) == []


def test_a_multiply_disabled_person_ticks_every_recorded_category(client: TestClient) -> None:
    person_id = recorded_as(client, ["vision", "physical"])
    only_one = application(person_id, disability_categories=["vision"])
    error = field_error_of(client.post("/applications", json=only_one), 422)
    assert error["code"] == "approval.disability_categories.not_registered"
    assert "视力、肢体" in error["message"]
    every = application(person_id, disability_categories=["physical", "vision"])
    assert client.post("/applications", json=every).status_code == 201


def test_a_referral_that_carries_no_categories_leaves_the_forms_unchecked(client: TestClient) -> None:
    person_id = recorded_as(client, None)
    body = application(person_id, disability_categories=["vision", "hearing"])
    assert client.post("/applications", json=body).status_code == 201


def test_the_referrals_list_gives_the_recorded_categories_for_the_form_to_start_from(
    client: TestClient,
) -> None:
    person_id = recorded_as(client, ["vision"])
    [referral] = client.get("/referrals", params={"person_id": str(person_id)}).json()
    assert referral["disability_categories"] == ["vision"]
