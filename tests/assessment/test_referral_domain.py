"""Referrals 转介 from a completed assessment: to a designated service institution, or up to the city."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.assessment.domain import Assessment, AssessmentCompleted, EarlierAssessment
from tests.assessment.cases import CITY, DISTRICT_FIRST, NETWORK, TODAY, case, complete, referral


def assessed(**changes) -> Assessment:
    return Assessment.from_history([complete(**changes)])


def record_of(assessment: Assessment) -> AssessmentCompleted:
    """The completed assessment an assessed case was built from."""
    assert assessment.record is not None
    return assessment.record


def refer(assessment: Assessment, **changes):
    return assessment.issue_referral(referral(**changes), network=NETWORK, today=TODAY)[0]


def rejected(assessment: Assessment, **changes) -> CommandRejected:
    with pytest.raises(CommandRejected) as error:
        refer(assessment, **changes)
    return error.value


def test_a_need_is_referred_to_a_service_institution_designated_for_it() -> None:
    assessment = assessed()
    event = refer(assessment)
    assert event.assessment_id == record_of(assessment).assessment_id
    assert event.from_institution_id == DISTRICT_FIRST
    assert (event.to_institution_id, event.to_kind, event.items) == (
        "lj-first-hospital",
        "service_institution",
        ("orientation_mobility_training",),
    )


def test_a_referral_to_a_service_institution_not_designated_for_the_item_is_refused() -> None:
    error = rejected(assessed(), to_institution_id="cq-aier-eye")
    assert error.field == "items"
    assert error.code == "assessment.items.service_not_designated"
    assert "低视力视功能训练" in error.message  # tells what the target does


def test_a_referral_to_an_unknown_service_institution_is_refused() -> None:
    assert rejected(assessed(), to_institution_id="no-such-clinic").field == "to_institution_id"


def test_an_assessment_institution_is_not_a_service_institution() -> None:
    assert rejected(assessed(), to_institution_id=CITY).field == "to_institution_id"


def test_items_outside_the_issuers_designation_cannot_go_to_a_service_institution() -> None:
    assessment = assessed(assessed_needs=("cataract_surgery",))
    error = rejected(assessment, to_institution_id="lj-first-hospital", items=("cataract_surgery",))
    assert error.code == "assessment.items.escalate_instead"
    assert "市级评估机构" in error.message


def test_items_outside_the_designation_are_escalated_to_a_city_institution() -> None:
    assessment = assessed(assessed_needs=("cataract_surgery", "orientation_mobility_training"))
    assert assessment.items_to_escalate(NETWORK) == ("cataract_surgery",)
    event = refer(
        assessment, to_institution_id=CITY, to_kind="assessment_institution", items=("cataract_surgery",)
    )
    after = Assessment.from_history([record_of(assessment), event])
    assert after.items_to_escalate(NETWORK) == ()
    assert not after.referral_pending(NETWORK)


def test_an_escalation_must_go_to_a_city_level_institution() -> None:
    assessment = assessed(assessed_needs=("cataract_surgery",))
    error = rejected(
        assessment,
        to_institution_id="lj-assess-second-hospital",
        to_kind="assessment_institution",
        items=("cataract_surgery",),
    )
    assert error.field == "to_institution_id"
    assert error.code == "assessment.to_institution_id.not_city_level"
    assert CITY in error.message


def test_an_escalation_to_a_city_institution_not_designated_for_the_item_is_refused() -> None:
    assessment = assessed(assessed_needs=("assistive_device_fitting",))
    error = rejected(
        assessment,
        to_institution_id=CITY,
        to_kind="assessment_institution",
        items=("assistive_device_fitting",),
    )
    assert error.field == "items"


def test_a_city_institution_cannot_escalate_to_itself() -> None:
    district = EarlierAssessment(UUID(int=7), DISTRICT_FIRST, "district")
    facts = case(earlier=(district,), escalated_to=frozenset({CITY}))
    assessment = Assessment.from_history(
        [complete(facts, institution_id=CITY, assessed_needs=("cataract_surgery",))]
    )
    error = rejected(
        assessment, to_institution_id=CITY, to_kind="assessment_institution", items=("cataract_surgery",)
    )
    assert error.field == "to_institution_id"


def test_items_must_be_among_the_assessed_needs() -> None:
    error = rejected(assessed(), items=("cataract_surgery",))
    assert error.field == "items"
    assert error.code == "assessment.items.not_assessed"
    assert "不在评估出的康复需求" in error.message


def test_a_referral_names_at_least_one_item() -> None:
    assert rejected(assessed(), items=()).field == "items"


def test_a_referral_before_the_assessment_is_refused() -> None:
    error = rejected(assessed(), issued_on=date(2024, 10, 21))
    assert (error.field, error.message) == (
        "issued_on",
        "转介日期 2024年10月21日 早于评估日期 2024年10月22日",
    )


def test_a_referral_in_the_future_is_refused() -> None:
    error = rejected(assessed(), issued_on=date(2024, 11, 2))
    assert (error.field, error.message) == ("issued_on", "转介日期 2024年11月2日 晚于今天")


def test_a_referral_contradicting_no_referral_needed_is_a_conflict() -> None:
    with pytest.raises(StateConflict, match="是否需转介: 否"):
        refer(assessed(referral_needed=False))


def test_referring_the_same_item_twice_is_a_conflict() -> None:
    assessment = assessed()
    first = refer(assessment)
    with pytest.raises(StateConflict, match=str(first.referral_id)):
        refer(Assessment.from_history([record_of(assessment), first]), to_institution_id="lj-second-hospital")


def test_an_assessment_needing_a_referral_is_pending_until_one_is_issued() -> None:
    assessment = assessed()
    assert assessment.referral_pending(NETWORK)
    assert not Assessment.from_history([record_of(assessment), refer(assessment)]).referral_pending(NETWORK)


def test_an_unknown_kind_of_target_is_refused() -> None:
    assert rejected(assessed(), to_kind="hospital").field == "to_kind"


def test_no_referral_without_a_completed_assessment() -> None:
    with pytest.raises(StateConflict):
        refer(Assessment())
