"""The application aggregate: given its history and its context, when a command, then events or an error."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.approval.domain import Application, Status
from services.approval.events import (
    ApplicationApproved,
    ApplicationEvent,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AttachmentsAdded,
    ItemApproval,
    ItemRejection,
    Referral,
    RequestedItem,
    Signatories,
    Submission,
    SubmissionContext,
)

TODAY = date(2024, 12, 31)
PERSON = UUID("7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f")
STREETS = frozenset({"鸳鸯", "人和"})
DESIGNATED = {
    "cqmu-second": frozenset({"low_vision_training", "cataract_surgery"}),
    "lj-first-hospital": frozenset({"orientation_mobility_training", "cataract_surgery"}),
    "lj-rehab-centre": frozenset(
        {
            "support_service_midlife_blind",
            "support_service_mental",
            "assistive_device_fitting",
            "self_purchased_device_subsidy",
        }
    ),
}
ALL_BASIC = frozenset(
    {"id_card_copy", "disability_certificate_copy", "household_register_copy", "service_handbook"}
)
LOW_VISION = RequestedItem("low_vision_training", institution_id="cqmu-second")
CATARACT = RequestedItem("cataract_surgery", eyes=("right",))
COMMUNITY_BLOCK = Signatories(responsible="周书记", handler="吴干事")
STREET_BLOCK = Signatories(responsible="郑主任", reviewer="王科长", handler="冯干事")
OFFICE_BLOCK = Signatories(responsible="赵主任", reviewer="钱科长", handler="孙干事")
CARD = "LJ2024-000001"


def referral(*items: str, year: int = 2024, to_service: bool = True, person: UUID = PERSON) -> Referral:
    return Referral(uuid4(), person, frozenset(items), year, "cqmu-second", to_service)


SERIALS = itertools.count(1)
"""序号 of the forms: one form's in its street and year."""


def form(*requested: RequestedItem, **changes: Any) -> Submission:
    values: dict[str, Any] = {
        "person_id": PERSON,
        "application_year": 2024,
        "street": "鸳鸯",
        "serial_number": f"2024-{next(SERIALS):03d}",
        "requested_items": requested or (LOW_VISION,),
        "attachments": ALL_BASIC,
        "economic_status": "other",
        "disability_categories": frozenset({"vision"}),
        "applicant_role": "person",
        "submitted_on": date(2024, 10, 25),
    }
    return Submission(**{**values, **changes})


def context(*referrals: Referral, others: tuple[Application, ...] = ()) -> SubmissionContext:
    backing = referrals or (
        referral(
            "low_vision_training",
            "cataract_surgery",
            "support_service_midlife_blind",
            "support_service_mental",
            "self_purchased_device_subsidy",
            "orientation_mobility_training",
        ),
    )
    return SubmissionContext(TODAY, STREETS, DESIGNATED, tuple(backing), others)


History = list[ApplicationEvent]


def submitted(submission: Submission | None = None, situation: SubmissionContext | None = None) -> History:
    return Application.submit(submission or form(), situation or context())


def submit(submission: Submission | None = None, situation: SubmissionContext | None = None) -> Application:
    return Application(submitted(submission, situation))


def reviewed(history: History, level: str = "community", **changes: Any) -> History:
    values: dict[str, Any] = {
        "level": level,
        "endorsed": True,
        "opinion": "情况属实，同意上报",
        "signatories": COMMUNITY_BLOCK if level == "community" else STREET_BLOCK,
        "reviewed_on": date(2024, 10, 28) if level == "community" else date(2024, 10, 30),
        "today": TODAY,
    }
    return [*history, *Application(history).review(**{**values, **changes})]


def endorsed(submission: Submission | None = None) -> History:
    return reviewed(reviewed(submitted(submission)), "street")


def approve(history: History, *approvals: ItemApproval, **changes: Any) -> History:
    """The events the district office's approval decides (not yet appended)."""
    values: dict[str, Any] = {
        "approvals": approvals or (ItemApproval("low_vision_training", "fixed_amount", amount_fen=120000),),
        "rejections": (),
        "signatories": OFFICE_BLOCK,
        "decided_on": date(2024, 11, 1),
        "service_card_number": CARD,
        "designated": DESIGNATED,
        "today": TODAY,
    }
    return Application(history).approve(**{**values, **changes})


def reject(history: History) -> History:
    return Application(history).reject("不符合本年度补助条件", OFFICE_BLOCK, date(2024, 11, 1), TODAY)


# -- submission ------------------------------------------------------------------------------------
def test_a_complete_referred_form_waits_for_the_community_review() -> None:
    [event] = Application.submit(form(), context())
    assert isinstance(event, ApplicationSubmitted)
    application = Application([event])
    assert application.status is Status.AWAITING_COMMUNITY_REVIEW
    assert application.missing_attachments == ()


def test_missing_attachments_leave_the_application_incomplete_rather_than_rejected() -> None:
    application = submit(form(attachments=frozenset({"id_card_copy"})))
    assert application.status is Status.INCOMPLETE
    assert application.missing_attachments == (
        "disability_certificate_copy",
        "household_register_copy",
        "service_handbook",
    )


def test_an_uncertified_childs_application_without_a_certificate_copy_is_complete() -> None:
    without_certificate = ALL_BASIC - {"disability_certificate_copy"}
    application = submit(form(attachments=without_certificate, certified=False, applicant_role="guardian"))
    assert application.missing_attachments == ()
    assert application.status is Status.AWAITING_COMMUNITY_REVIEW


def test_a_certified_adults_application_without_a_certificate_copy_is_incomplete() -> None:
    application = submit(form(attachments=ALL_BASIC - {"disability_certificate_copy"}, certified=True))
    assert application.missing_attachments == ("disability_certificate_copy",)
    assert application.status is Status.INCOMPLETE


def test_an_uncertified_child_cannot_attach_a_certificate_copy() -> None:
    with pytest.raises(CommandRejected, match="未持残疾人证") as error:
        Application.submit(form(certified=False), context())
    assert error.value.field == "attachments"


def test_a_certificate_copy_cannot_be_added_later_for_an_uncertified_child() -> None:
    application = submit(form(attachments=frozenset({"id_card_copy"}), certified=False))
    assert application.missing_attachments == ("household_register_copy", "service_handbook")
    with pytest.raises(CommandRejected, match="未持残疾人证"):
        application.add_attachments(
            frozenset({"disability_certificate_copy", "service_handbook"}), date(2024, 10, 27), TODAY
        )


def test_a_subsistence_allowance_family_also_attaches_the_subsistence_certificate() -> None:
    application = submit(form(economic_status="subsistence_allowance"))
    assert application.missing_attachments == ("subsistence_certificate_copy",)


def test_a_non_vision_applicant_for_cataract_surgery_need_not_attach_the_handbook() -> None:
    without_handbook = ALL_BASIC - {"service_handbook"}
    submission = form(CATARACT, attachments=without_handbook, disability_categories=frozenset({"physical"}))
    assert submit(submission).status is Status.AWAITING_COMMUNITY_REVIEW


def test_a_vision_disabled_applicant_for_cataract_surgery_attaches_the_handbook() -> None:
    application = submit(form(CATARACT, attachments=ALL_BASIC - {"service_handbook"}))
    assert application.missing_attachments == ("service_handbook",)


def test_cataract_surgery_with_another_item_needs_the_handbook_whatever_the_category() -> None:
    submission = form(
        CATARACT,
        RequestedItem("assistive_device_fitting"),
        attachments=ALL_BASIC - {"service_handbook"},
        disability_categories=frozenset({"physical"}),
    )
    situation = context(referral("cataract_surgery", "assistive_device_fitting"))
    assert submit(submission, situation).missing_attachments == ("service_handbook",)


def test_items_without_any_referral_are_refused_because_the_assessment_comes_first() -> None:
    with pytest.raises(StateConflict, match="须先经评估机构评估并转介"):
        Application.submit(form(), SubmissionContext(TODAY, STREETS, DESIGNATED))


def test_an_item_the_referrals_do_not_name_is_refused_by_name() -> None:
    with pytest.raises(StateConflict, match="低视力视功能训练没有 2024 年的评估转介") as error:
        Application.submit(form(), context(referral("cataract_surgery")))
    assert error.value.field == "requested_items"


def test_a_referral_of_another_year_does_not_back_the_application() -> None:
    with pytest.raises(StateConflict, match="没有此人 2024 年的评估转介") as error:
        Application.submit(form(), context(referral("low_vision_training", year=2023)))
    assert error.value.code == "approval.requested_items.no_referral"


def test_an_escalation_to_the_city_level_does_not_back_the_application() -> None:
    with pytest.raises(StateConflict):
        Application.submit(form(), context(referral("low_vision_training", to_service=False)))


def test_another_persons_referral_does_not_back_the_application() -> None:
    with pytest.raises(StateConflict):
        Application.submit(form(), context(referral("low_vision_training", person=uuid4())))


def test_a_named_referral_that_has_not_reached_approval_is_refused() -> None:
    with pytest.raises(StateConflict, match="尚未收到此人的转介") as error:
        Application.submit(form(referral_id=uuid4()), context())
    assert error.value.field == "referral_id"


def test_a_named_escalation_referral_is_refused_with_the_reason() -> None:
    escalation = referral("low_vision_training", to_service=False)
    with pytest.raises(CommandRejected, match="市级评估机构"):
        Application.submit(form(referral_id=escalation.referral_id), context(escalation))


def test_the_single_referral_covering_every_item_is_recorded_as_the_backing_one() -> None:
    first, second = referral("cataract_surgery"), referral("low_vision_training")
    [event] = Application.submit(form(), context(first, second))
    assert isinstance(event, ApplicationSubmitted)
    assert event.submission.referral_id == second.referral_id


def test_items_backed_only_by_two_referrals_together_record_no_single_referral() -> None:
    situation = context(referral("cataract_surgery"), referral("low_vision_training"))
    application = submit(form(LOW_VISION, CATARACT), situation)
    assert application.submission is not None and application.submission.referral_id is None


def test_a_street_outside_the_jurisdiction_is_refused() -> None:
    with pytest.raises(CommandRejected) as error:
        Application.submit(form(street="解放碑"), context())
    assert error.value.field == "street"


def test_a_form_signed_outside_its_year_is_refused() -> None:
    with pytest.raises(CommandRejected) as error:
        Application.submit(form(submitted_on=date(2023, 12, 30)), context())
    assert error.value.field == "submitted_on"
    assert error.value.message == "申请日期 2023年12月30日 不在申请年度 2024 内"


def test_an_institution_not_designated_for_the_item_is_refused() -> None:
    wrong = RequestedItem("low_vision_training", institution_id="lj-first-hospital")
    with pytest.raises(CommandRejected, match="不是该项目的定点康复服务机构"):
        Application.submit(form(wrong), context())


def test_items_four_to_six_need_the_chosen_institution() -> None:
    with pytest.raises(CommandRejected, match="服务机构"):
        Application.submit(form(RequestedItem("low_vision_training")), context())


def test_the_nutrition_allowance_is_for_subsistence_allowance_families_only() -> None:
    cataract = RequestedItem("cataract_surgery", eyes=("left",), nutrition_allowance=True)
    with pytest.raises(CommandRejected, match="低保"):
        Application.submit(form(cataract), context())
    allowed = submit(form(cataract, economic_status="subsistence_allowance"))
    assert allowed.exists


def test_a_support_service_needs_the_disability_category_it_serves() -> None:
    mental = RequestedItem("support_service_mental", institution_id="lj-rehab-centre")
    with pytest.raises(CommandRejected, match="精神残疾人的支持性服务"):
        Application.submit(form(mental), context())


# -- one 支持性服务 per category per year, no item twice -------------------------------------------
MIDLIFE_BLIND = RequestedItem("support_service_midlife_blind", institution_id="lj-rehab-centre")
MENTAL = RequestedItem("support_service_mental", institution_id="lj-rehab-centre")


def test_a_second_support_service_application_for_the_same_category_and_year_is_refused() -> None:
    earlier = submit(form(MIDLIFE_BLIND))
    with pytest.raises(StateConflict, match="支持性服务"):
        Application.submit(form(MIDLIFE_BLIND, serial_number="2024-016"), context(others=(earlier,)))


def test_a_rejected_support_service_application_still_counts_as_the_one_of_the_year() -> None:
    history = endorsed(form(MIDLIFE_BLIND))
    earlier = Application([*history, *reject(history)])
    with pytest.raises(StateConflict, match="未批准"):
        Application.submit(form(MIDLIFE_BLIND), context(others=(earlier,)))


def test_a_returned_support_service_application_does_not_count() -> None:
    earlier = Application(reviewed(submitted(form(MIDLIFE_BLIND)), endorsed=False, opinion="资料有误，退回"))
    assert earlier.status is Status.RETURNED
    assert Application.submit(form(MIDLIFE_BLIND), context(others=(earlier,)))


def test_support_services_of_two_categories_may_both_be_applied_for() -> None:
    categories = frozenset({"vision", "mental"})
    earlier = submit(form(MIDLIFE_BLIND, disability_categories=categories))
    assert Application.submit(form(MENTAL, disability_categories=categories), context(others=(earlier,)))


def test_a_support_service_of_another_year_does_not_count() -> None:
    earlier = submit(form(MIDLIFE_BLIND))
    later = form(MIDLIFE_BLIND, application_year=2025, submitted_on=date(2025, 1, 5))
    situation = context(referral("support_service_midlife_blind", year=2025), others=(earlier,))
    assert Application.submit(later, replace(situation, today=date(2025, 2, 1)))


def test_an_item_still_pending_on_another_application_is_refused() -> None:
    earlier = submit()
    with pytest.raises(StateConflict, match="已有 2024 年的低视力视功能训练"):
        Application.submit(form(), context(others=(earlier,)))


def test_cataract_surgery_on_the_other_eye_is_a_new_request() -> None:
    earlier = submit(form(CATARACT))
    left = RequestedItem("cataract_surgery", eyes=("left",))
    assert Application.submit(form(left), context(others=(earlier,)))


def test_an_item_refused_by_the_district_office_may_be_applied_for_again() -> None:
    history = endorsed(form(LOW_VISION, CATARACT))
    decision = approve(
        history,
        ItemApproval("cataract_surgery", "free", institution_id="cqmu-second"),
        rejections=(ItemRejection("low_vision_training", "本年度名额已满"),),
    )
    earlier = Application([*history, *decision])
    assert Application.submit(form(), context(others=(earlier,)))
    with pytest.raises(StateConflict, match="白内障复明手术"):
        Application.submit(form(CATARACT), context(others=(earlier,)))


# -- attachments -----------------------------------------------------------------------------------
def test_attachments_handed_in_later_complete_the_application() -> None:
    history = submitted(form(attachments=frozenset({"id_card_copy", "disability_certificate_copy"})))
    application = Application(history)
    added = frozenset({"household_register_copy", "service_handbook"})
    events = application.add_attachments(added, date(2024, 10, 27), TODAY)
    assert events == [AttachmentsAdded(application.application_id, added, date(2024, 10, 27))]  # type: ignore[arg-type]
    assert Application([*history, *events]).status is Status.AWAITING_COMMUNITY_REVIEW


def test_attachments_already_there_are_refused_naming_what_is_still_missing() -> None:
    application = submit(form(attachments=frozenset({"id_card_copy"})))
    with pytest.raises(CommandRejected, match="仍缺：残疾人证复印件"):
        application.add_attachments(frozenset({"id_card_copy"}), date(2024, 10, 27), TODAY)


def test_a_complete_application_takes_no_more_attachments() -> None:
    with pytest.raises(StateConflict, match="不在补交资料阶段"):
        submit().add_attachments(frozenset({"subsistence_certificate_copy"}), date(2024, 10, 27), TODAY)


def test_a_review_comes_after_the_attachments_were_handed_in() -> None:
    history = submitted(form(attachments=ALL_BASIC - {"service_handbook"}))
    history = [
        *history,
        *Application(history).add_attachments(frozenset({"service_handbook"}), date(2024, 10, 29), TODAY),
    ]
    with pytest.raises(CommandRejected, match="日期 2024年10月28日 早于此申请上一步的日期 2024年10月29日"):
        reviewed(history, reviewed_on=date(2024, 10, 28))


# -- reviews ---------------------------------------------------------------------------------------
def test_an_incomplete_application_cannot_be_reviewed() -> None:
    with pytest.raises(StateConflict, match="申请资料不全"):
        reviewed(submitted(form(attachments=frozenset({"id_card_copy"}))))


def test_the_community_then_the_street_endorse_and_the_district_office_may_decide() -> None:
    community = reviewed(submitted())
    assert Application(community).status is Status.AWAITING_STREET_REVIEW
    street = reviewed(community, "street")
    assert Application(street).status is Status.AWAITING_DECISION
    assert isinstance(street[-1], ApplicationReviewed)
    assert street[-1].signatories == STREET_BLOCK


def test_the_street_cannot_review_before_the_community() -> None:
    with pytest.raises(StateConflict, match="须先由社区居委会审核"):
        reviewed(submitted(), "street")


def test_a_level_reviews_only_once() -> None:
    with pytest.raises(StateConflict, match="社区居委会已于 2024年10月28日 审核过此申请"):
        reviewed(reviewed(submitted()), signatories=Signatories("另一人", "又一人"))


def test_the_street_block_needs_a_reviewer() -> None:
    with pytest.raises(CommandRejected) as error:
        reviewed(reviewed(submitted()), "street", signatories=Signatories("郑主任", "冯干事"))
    assert error.value.field == "signatories.reviewer"


def test_the_community_block_has_no_reviewer() -> None:
    with pytest.raises(CommandRejected, match="没有复核人"):
        reviewed(submitted(), signatories=Signatories("周书记", "吴干事", reviewer="王科长"))


def test_one_person_cannot_sign_two_roles_in_one_block() -> None:
    with pytest.raises(CommandRejected) as error:
        reviewed(submitted(), signatories=Signatories("周书记", "周书记"))
    assert error.value.field == "signatories.handler"


def test_one_person_cannot_hold_roles_at_two_levels_of_the_same_application() -> None:
    community = reviewed(submitted())
    with pytest.raises(CommandRejected, match="吴 干事已作为社区居委会") as error:
        reviewed(community, "street", signatories=Signatories("郑主任", "冯干事", reviewer="吴 干事"))
    assert error.value.field == "signatories.reviewer"


def test_the_district_office_cannot_reuse_a_reviewer_of_the_street() -> None:
    with pytest.raises(CommandRejected, match="街道办事处复核人") as error:
        approve(endorsed(), signatories=Signatories("赵主任", "孙干事", reviewer="王科长"))
    assert error.value.field == "signatories.reviewer"


def test_a_review_that_does_not_endorse_returns_the_application_and_ends_it() -> None:
    returned = reviewed(submitted(), endorsed=False, opinion="非本社区居民")
    assert Application(returned).status is Status.RETURNED
    with pytest.raises(StateConflict, match="申请已于 2024年10月28日 被社区居委会退回（非本社区居民）"):
        reviewed(returned, "street")
    with pytest.raises(StateConflict, match="退回"):
        approve(returned)


def test_a_review_dated_before_the_submission_is_refused() -> None:
    with pytest.raises(CommandRejected) as error:
        reviewed(submitted(), reviewed_on=date(2024, 10, 1))
    assert error.value.field == "reviewed_on"


def test_a_review_dated_in_the_future_is_refused() -> None:
    with pytest.raises(CommandRejected, match="日期 2024年10月28日 晚于今天"):
        reviewed(submitted(), today=date(2024, 10, 27))


def test_the_street_review_is_not_dated_before_the_community_review() -> None:
    with pytest.raises(CommandRejected, match="日期 2024年10月26日 早于此申请上一步的日期 2024年10月28日"):
        reviewed(reviewed(submitted()), "street", reviewed_on=date(2024, 10, 26))


# -- the district office decides -------------------------------------------------------------------
def test_the_district_office_decides_only_after_both_levels_endorsed() -> None:
    with pytest.raises(StateConflict, match="待街道审核"):
        approve(reviewed(submitted()))


def test_approval_at_a_fixed_amount_issues_the_service_card() -> None:
    history = endorsed()
    [event] = approve(history)
    assert isinstance(event, ApplicationApproved)
    assert event.service_card_number == CARD
    assert event.approved_items == (
        ItemApproval("low_vision_training", "fixed_amount", institution_id="cqmu-second", amount_fen=120000),
    )
    assert Application([*history, event]).status is Status.APPROVED


@pytest.mark.parametrize("amount", [None, 0, -100])
def test_a_fixed_amount_needs_an_amount_above_zero(amount: int | None) -> None:
    with pytest.raises(CommandRejected, match="大于 0 的金额"):
        approve(endorsed(), ItemApproval("low_vision_training", "fixed_amount", amount_fen=amount))


def test_a_free_item_carries_no_amount() -> None:
    with pytest.raises(CommandRejected, match="免费"):
        approve(endorsed(), ItemApproval("low_vision_training", "free", amount_fen=100))


def test_every_requested_item_must_be_decided() -> None:
    with pytest.raises(CommandRejected, match="未审批：白内障复明手术"):
        approve(endorsed(form(LOW_VISION, CATARACT)), ItemApproval("low_vision_training", "free"))


def test_an_item_cannot_be_decided_twice() -> None:
    with pytest.raises(CommandRejected, match="重复审批了：低视力视功能训练"):
        approve(
            endorsed(),
            ItemApproval("low_vision_training", "free"),
            rejections=(ItemRejection("low_vision_training", "重复"),),
        )


def test_an_item_that_was_not_requested_cannot_be_approved() -> None:
    with pytest.raises(CommandRejected, match="此申请没有申请：白内障复明手术"):
        approve(
            endorsed(),
            ItemApproval("low_vision_training", "free"),
            ItemApproval("cataract_surgery", "free", institution_id="cqmu-second"),
        )


def test_refusing_every_item_is_a_rejection_not_an_approval() -> None:
    with pytest.raises(CommandRejected, match="不予批准整个申请"):
        approve(endorsed(), rejections=(ItemRejection("low_vision_training", "不符合"),), approvals=())


def test_the_district_office_may_fix_another_designated_institution() -> None:
    designated = {**DESIGNATED, "cq-aier-eye": frozenset({"low_vision_training"})}
    [event] = approve(
        endorsed(),
        ItemApproval("low_vision_training", "free", institution_id="cq-aier-eye"),
        designated=designated,
    )
    assert isinstance(event, ApplicationApproved)
    assert event.approved_items[0].institution_id == "cq-aier-eye"


def test_an_approved_institution_must_be_designated_for_the_item() -> None:
    with pytest.raises(CommandRejected, match="不是该项目的定点"):
        approve(endorsed(), ItemApproval("low_vision_training", "free", institution_id="lj-rehab-centre"))


def test_an_item_without_a_chosen_institution_needs_one_in_the_decision() -> None:
    with pytest.raises(CommandRejected, match="请指定服务机构"):
        approve(endorsed(form(CATARACT)), ItemApproval("cataract_surgery", "fixed_amount", amount_fen=120000))


def test_the_self_purchased_device_subsidy_is_approved_without_an_institution() -> None:
    history = endorsed(form(RequestedItem("self_purchased_device_subsidy", poor=True)))
    [event] = approve(
        history, ItemApproval("self_purchased_device_subsidy", "fixed_amount", amount_fen=50000)
    )
    assert isinstance(event, ApplicationApproved)
    assert event.approved_items[0].institution_id is None


def test_the_district_office_block_needs_a_reviewer() -> None:
    with pytest.raises(CommandRejected) as error:
        approve(endorsed(), signatories=Signatories("赵主任", "孙干事"))
    assert error.value.field == "signatories.reviewer"


def test_the_whole_application_can_be_rejected_with_a_reason_and_only_once() -> None:
    history = endorsed()
    [event] = reject(history)
    assert isinstance(event, ApplicationRejected)
    rejected = [*history, event]
    assert Application(rejected).status is Status.REJECTED
    with pytest.raises(StateConflict, match="区残联办已审批此申请（未批准）"):
        approve(rejected)


def test_an_approved_application_cannot_be_decided_again() -> None:
    history = endorsed()
    approved = [*history, *approve(history)]
    with pytest.raises(StateConflict, match="区残联办已审批此申请（已批准）"):
        Application(approved).reject("改判", Signatories("甲", "乙", reviewer="丙"), date(2024, 11, 2), TODAY)


def test_a_decision_dated_before_the_street_review_is_refused() -> None:
    with pytest.raises(CommandRejected) as error:
        approve(endorsed(), decided_on=date(2024, 10, 29))
    assert error.value.field == "decided_on"
