"""A survey records the facts some standards depend on (低视力/盲/孤独症, hardship beyond 低保, 居住证), reads
them back and refuses those that contradict the person's registration."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from tests.problem_json import field_error_of
from tests.survey.people import make_id
from tests.survey.test_survey_api import register, survey_body


def test_a_vision_disabled_persons_low_vision_and_hardship_are_recorded_and_read_back(
    client: TestClient,
) -> None:
    person_id = register(client)  # 视力残疾二级

    recorded = client.post(
        f"/persons/{person_id}/surveys",
        json=survey_body(
            disability_subtypes=["low_vision"],
            hardship_statuses=["poverty_relapse_monitoring"],
            residence_permit=True,
        ),
    )

    assert recorded.status_code == 201, recorded.text
    (survey,) = client.get(f"/persons/{person_id}/surveys").json()
    assert survey["disability_subtypes"] == ["low_vision"]
    assert survey["hardship_statuses"] == ["poverty_relapse_monitoring"]
    assert survey["residence_permit"] is True


def test_a_survey_that_records_none_of_them_reads_back_empty(client: TestClient) -> None:
    person_id = register(client)

    client.post(f"/persons/{person_id}/surveys", json=survey_body())

    (survey,) = client.get(f"/persons/{person_id}/surveys").json()
    assert (survey["disability_subtypes"], survey["hardship_statuses"], survey["residence_permit"]) == (
        [],
        [],
        False,
    )


def test_low_vision_and_blind_together_are_refused_naming_the_field(client: TestClient) -> None:
    person_id = register(client)

    refused = client.post(
        f"/persons/{person_id}/surveys", json=survey_body(disability_subtypes=["low_vision", "blind"])
    )

    assert refused.status_code == 422
    assert field_error_of(refused)["field"] == "disability_subtypes"
    assert "只能选择其一" in refused.text


def test_blind_is_refused_for_a_person_registered_with_another_category(client: TestClient) -> None:
    id_number = make_id(date(1958, 4, 12))
    person_id = register(client, disability_categories=["physical"], certificate_number=id_number + "42")

    refused = client.post(
        f"/persons/{person_id}/surveys",
        json=survey_body(needed_items=["assistive_device_fitting"], disability_subtypes=["blind"]),
    )

    assert refused.status_code == 422
    assert field_error_of(refused)["field"] == "disability_subtypes"
    assert "只适用于视力残疾人" in refused.text
