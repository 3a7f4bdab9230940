"""A referral carries the street and community the year's needs survey registered the person in, and the
disability categories it recorded, so the approval service lets only that street (its communities) apply
with it, for the person's own categories."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assessment.test_assessment_api import (  # noqa: F401  (the client fixture)
    assess,
    client,
    referral_body,
    stored_events,
    surveyed_person,
)


def test_a_referral_names_the_street_and_community_the_survey_registered_the_person_in(
    client: TestClient,  # noqa: F811
) -> None:
    person_id, _ = surveyed_person(client, street="人和", community="人和社区")
    assessment_id = assess(client, person_id)["assessment_id"]
    response = client.post(f"/assessments/{assessment_id}/referrals", json=referral_body())
    assert response.status_code == 201, response.text
    [event] = stored_events(client, "assessment.referral_issued")
    assert (event.payload["street"], event.payload["community"]) == ("人和", "人和社区")


def test_a_referral_carries_the_disability_categories_the_survey_recorded(
    client: TestClient,  # noqa: F811
) -> None:
    person_id, _ = surveyed_person(client, disability_categories=["vision", "hearing"])
    assessment_id = assess(client, person_id)["assessment_id"]
    response = client.post(f"/assessments/{assessment_id}/referrals", json=referral_body())
    assert response.status_code == 201, response.text
    [event] = stored_events(client, "assessment.referral_issued")
    assert sorted(event.payload["disability_categories"]) == ["hearing", "vision"]
