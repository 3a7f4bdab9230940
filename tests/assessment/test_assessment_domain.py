"""Completing an assessment 康复需求评估: given the person's year, when assessed, then events or an error."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.assessment.domain import Assessment, EarlierAssessment
from tests.assessment.cases import (
    CITY,
    DISTRICT_FIRST,
    DISTRICT_SECOND,
    NETWORK,
    PERSON,
    TODAY,
    case,
    complete,
    request,
    surveyed,
)


def rejected(facts=None, **changes) -> CommandRejected:
    with pytest.raises(CommandRejected) as error:
        complete(facts, **changes)
    return error.value


def test_a_district_institution_assesses_a_surveyed_person() -> None:
    event = complete()
    assert event.person_id == PERSON
    assert event.institution_id == DISTRICT_FIRST
    assert event.institution_level == "district"
    assert event.assessed_needs == ("orientation_mobility_training",)
    assert event.referral_needed


def test_each_assessment_gets_a_new_id() -> None:
    assert complete().assessment_id != complete().assessment_id


def test_an_unknown_institution_is_refused_naming_the_field() -> None:
    error = rejected(institution_id="lj-first-hospital")  # a service institution, not an assessment one
    assert error.field == "institution_id"
    assert error.status_code == 422


def test_a_person_whose_survey_has_not_arrived_is_a_conflict_saying_so() -> None:
    with pytest.raises(StateConflict, match="尚未收到此人 2024 年的需求调查"):
        complete(case(survey=None))


def test_a_person_surveyed_without_needs_is_a_conflict() -> None:
    with pytest.raises(StateConflict, match="没有康复需求"):
        complete(case(survey=surveyed(has_needs=False, needed_items=())))


def test_an_assessment_in_the_future_is_refused() -> None:
    error = rejected(assessed_on=date(2024, 11, 2))
    assert (error.field, error.message) == ("assessed_on", "评估日期 2024年11月2日 晚于今天")


def test_an_assessment_before_the_survey_is_refused() -> None:
    error = rejected(assessed_on=date(2024, 10, 14))
    assert (error.field, error.message) == (
        "assessed_on",
        "评估日期 2024年10月14日 早于需求调查日期 2024年10月15日",
    )


def test_a_person_who_cannot_travel_is_not_assessed_at_the_institution() -> None:
    facts = case(survey=surveyed(home_visit_required=True))
    assert rejected(facts, mode="at_institution").field == "mode"
    assert complete(facts, mode="home_visit").mode == "home_visit"
    assert complete(facts, mode="group").mode == "group"


def test_a_home_visit_is_allowed_for_anyone() -> None:
    assert complete(mode="home_visit").mode == "home_visit"


def test_repeated_needs_are_refused() -> None:
    needs = ("orientation_mobility_training", "orientation_mobility_training")
    assert rejected(assessed_needs=needs).field == "assessed_needs"


def test_needs_beyond_the_survey_may_be_found() -> None:
    event = complete(assessed_needs=("assistive_device_fitting", "orientation_mobility_training"))
    assert "assistive_device_fitting" in event.assessed_needs


def test_no_needs_found_and_no_referral_is_a_valid_assessment() -> None:
    event = complete(assessed_needs=(), referral_needed=False)
    assert event.assessed_needs == () and not event.referral_needed


def test_a_referral_with_nothing_to_refer_is_refused() -> None:
    assert rejected(assessed_needs=(), referral_needed=True).field == "referral_needed"


def test_needs_outside_the_designation_are_recorded_when_a_referral_is_declared() -> None:
    event = complete(assessed_needs=("cataract_surgery",), referral_needed=True)
    assert event.assessed_needs == ("cataract_surgery",)
    assert Assessment.from_history([event]).items_to_escalate(NETWORK) == ("cataract_surgery",)


def test_needs_outside_the_designation_without_a_referral_are_refused() -> None:
    error = rejected(assessed_needs=("cataract_surgery",), referral_needed=False)
    assert error.field == "referral_needed"
    assert error.code == "assessment.referral_needed.escalation_required"
    assert "市级评估机构" in error.message


def test_needs_no_city_institution_can_assess_are_refused() -> None:
    # The second district hospital is not designated for children's training, and no city institution is.
    error = rejected(institution_id=DISTRICT_SECOND, assessed_needs=("children_rehab_training",))
    assert error.field == "assessed_needs"


def test_a_second_district_assessment_in_a_year_is_a_conflict() -> None:
    earlier = EarlierAssessment(uuid4(), DISTRICT_SECOND, "district")
    with pytest.raises(StateConflict, match="每人每年只做一次区级评估"):
        complete(case(earlier=(earlier,)))


def test_a_city_institution_assesses_only_persons_escalated_to_it() -> None:
    earlier = (EarlierAssessment(uuid4(), DISTRICT_FIRST, "district"),)
    with pytest.raises(StateConflict, match="未被转介至该机构"):
        complete(
            case(earlier=earlier),
            institution_id=CITY,
            assessed_needs=("cataract_surgery",),
            referral_needed=True,
        )
    event = complete(
        case(earlier=earlier, escalated_to=frozenset({CITY})),
        institution_id=CITY,
        assessed_needs=("cataract_surgery",),
        referral_needed=True,
    )
    assert event.institution_level == "city"


def test_a_city_institution_does_not_assess_the_same_person_twice_a_year() -> None:
    earlier = (
        EarlierAssessment(uuid4(), DISTRICT_FIRST, "district"),
        EarlierAssessment(uuid4(), CITY, "city"),
    )
    with pytest.raises(StateConflict):
        complete(
            case(earlier=earlier, escalated_to=frozenset({CITY})),
            institution_id=CITY,
            assessed_needs=("cataract_surgery",),
        )


def test_an_assessment_cannot_be_completed_twice() -> None:
    with pytest.raises(StateConflict):
        Assessment.from_history([complete()]).complete(request(), case=case(), network=NETWORK, today=TODAY)


def test_an_assessment_for_another_year_needs_that_years_survey() -> None:
    facts = case(survey=surveyed(year=2023, surveyed_on=date(2023, 10, 1)))
    assert replace(complete(facts, assessment_year=2023)).assessment_year == 2023
