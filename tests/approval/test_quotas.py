"""Children's assistance places 救助名额 per area and year, enforced when 区残联办 approves."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kernel.domain.rejections import StateConflict
from services.approval.domain import Application, Status
from services.approval.events import (
    ApplicationApproved,
    ItemApproval,
    ItemRejection,
    RequestedItem,
    SubmissionContext,
)
from services.approval.quotas import QuotaUse, count_taken
from tests.approval.test_domain import (
    DESIGNATED,
    LOW_VISION,
    OFFICE_BLOCK,
    STREETS,
    TODAY,
    History,
    form,
    referral,
    reviewed,
)

CHILD_ITEM = RequestedItem("children_rehab_training", institution_id="lj-rehab-centre")
WITH_CHILDREN = {**DESIGNATED, "lj-rehab-centre": DESIGNATED["lj-rehab-centre"] | {"children_rehab_training"}}
CHILDREN = frozenset({"children_rehab_training"})


def endorsed_child(*requested: RequestedItem, **changes: Any) -> History:
    items = requested or (CHILD_ITEM,)
    situation = SubmissionContext(
        TODAY, STREETS, WITH_CHILDREN, (referral("children_rehab_training", "low_vision_training"),), ()
    )
    submitted = Application.submit(form(*items, **changes), situation)
    return reviewed(reviewed(submitted), "street")


def places(taken: int, places: int = 2) -> QuotaUse:
    return QuotaUse("鸳鸯", 2024, places, frozenset({"鸳鸯"}), CHILDREN, taken)


def approve(history: History, *approvals: ItemApproval, quota: QuotaUse | None, **changes: Any) -> History:
    return Application(history).approve(
        approvals or (ItemApproval("children_rehab_training", "free"),),
        changes.pop("rejections", ()),
        OFFICE_BLOCK,
        date(2024, 11, 1),
        service_card_number="LJ2024-000001",
        designated=WITH_CHILDREN,
        today=TODAY,
        places=quota,
    )


def test_a_childrens_item_taking_the_last_free_place_is_approved() -> None:
    [event] = approve(endorsed_child(), quota=places(taken=1))
    assert isinstance(event, ApplicationApproved)


def test_a_childrens_item_beyond_the_areas_places_is_refused_with_the_reason_and_the_application_waits() -> (
    None
):
    history = endorsed_child()
    with pytest.raises(StateConflict) as error:
        approve(history, quota=places(taken=2))
    assert (error.value.field, error.value.code) == ("approved_items", "approval.approved_items.over_quota")
    assert "鸳鸯 2024 年残疾儿童康复救助名额 2 名已满" in error.value.message
    assert Application(history).status is Status.AWAITING_DECISION


def test_without_a_quota_or_without_a_childrens_item_no_place_is_needed() -> None:
    assert approve(endorsed_child(), quota=None)
    both = endorsed_child(CHILD_ITEM, LOW_VISION)
    only_low_vision = approve(
        both,
        ItemApproval("low_vision_training", "fixed_amount", amount_fen=120000),
        quota=places(taken=2),
        rejections=(ItemRejection("children_rehab_training", "本年度名额已满"),),
    )
    assert isinstance(only_low_vision[0], ApplicationApproved)


def test_an_over_quota_application_can_still_be_rejected() -> None:
    history = endorsed_child()
    [event] = Application(history).reject("本年度救助名额已满", OFFICE_BLOCK, date(2024, 11, 1), TODAY)
    assert Application([*history, event]).status is Status.REJECTED


def test_only_approved_applications_of_the_area_and_year_with_a_childrens_item_take_a_place() -> None:
    approved = endorsed_child()
    approved = [*approved, *approve(approved, quota=None)]
    rejected = endorsed_child()
    rejected = [
        *rejected,
        *Application(rejected).reject("不符合条件", OFFICE_BLOCK, date(2024, 11, 1), TODAY),
    ]
    pending = endorsed_child()
    elsewhere = endorsed_child(street="人和")
    elsewhere = [*elsewhere, *approve(elsewhere, quota=None)]
    found = [Application(history) for history in (approved, rejected, pending, elsewhere)]
    assert count_taken(found, 2024, frozenset({"鸳鸯"}), CHILDREN) == 1
    assert count_taken(found, 2025, frozenset({"鸳鸯"}), CHILDREN) == 0
    assert count_taken(found, 2024, frozenset({"鸳鸯", "人和"}), CHILDREN) == 2
