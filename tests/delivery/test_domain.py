"""The service record: given the approvals that reached delivery, when an institution records a service, then
the record or a clear refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from kernel.domain.rejections import CommandRejected, StateConflict
from services.delivery.domain import (
    DeliveryContext,
    Entitlement,
    ServiceDelivered,
    ServiceForm,
    ServiceRecord,
)

TODAY = date(2024, 12, 31)
PERSON = UUID("7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f")
APPLICATION = UUID("c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f")
DESIGNATED = {
    "cqmu-second": frozenset({"low_vision_training", "cataract_surgery"}),
    "cq-aier-eye": frozenset({"low_vision_training", "cataract_surgery"}),
    "lj-rehab-centre": frozenset({"self_purchased_device_subsidy", "support_service_mental"}),
}
LOW_VISION = Entitlement(
    application_id=APPLICATION,
    person_id=PERSON,
    year=2024,
    service_card_number="LJ2024-000001",
    item="low_vision_training",
    institution_id="cqmu-second",
    subsidy_mode="fixed_amount",
    amount_fen=120000,
    approved_on=date(2024, 11, 1),
)


def form(**changes: Any) -> ServiceForm:
    values: dict[str, Any] = {
        "application_id": APPLICATION,
        "person_id": PERSON,
        "institution_id": "cqmu-second",
        "item": "low_vision_training",
        "frequency": "每周2次，每次45分钟",
        "period_start": date(2024, 11, 4),
        "period_end": date(2024, 12, 20),
        "staff": "刘康复师",
        "charge_fen": 150000,
        "insurance_paid_fen": 30000,
        "signed_by": "person",
        "signed_on": date(2024, 12, 20),
    }
    return ServiceForm(**{**values, **changes})


def context(*entitlements: Entitlement, **changes: Any) -> DeliveryContext:
    base = DeliveryContext(TODAY, DESIGNATED, entitlements if entitlements else (LOW_VISION,))
    return replace(base, **changes)


def refused(
    error: type[Exception], filled: ServiceForm, known: DeliveryContext | None = None
) -> CommandRejected:
    with pytest.raises(error) as caught:
        ServiceRecord.record(filled, known or context())
    assert isinstance(caught.value, CommandRejected)
    return caught.value


def test_a_signed_record_under_its_approval_is_kept_for_the_application_year() -> None:
    [event] = ServiceRecord.record(form(), context())
    assert event.service_year == 2024
    assert event.form == form()
    assert ServiceRecord([event]).delivered == event


def test_an_unsigned_record_is_refused() -> None:
    assert refused(CommandRejected, form(signed_by=None)).field == "signed_by"
    assert refused(CommandRejected, form(signed_on=None)).field == "signed_on"


def test_a_signature_before_the_period_ended_is_refused() -> None:
    error = refused(CommandRejected, form(signed_on=date(2024, 12, 19)))
    assert error.field == "signed_on"
    assert error.message.startswith("签字日期 2024年12月19日 早于服务周期结束日期 2024年12月20日：")
    assert "签字确认的是已接受的服务" in error.message


def test_a_signature_dated_in_the_future_is_refused() -> None:
    error = refused(CommandRejected, form(), context(today=date(2024, 12, 19)))
    assert error.message == "签字日期 2024年12月20日 晚于今天"


def test_a_period_ending_before_it_starts_is_refused() -> None:
    error = refused(CommandRejected, form(period_start=date(2024, 12, 21)))
    assert error.field == "period_end"
    assert error.message == "服务周期的结束日期 2024年12月20日 早于开始日期 2024年12月21日"


def test_insurance_cannot_pay_more_than_the_charge() -> None:
    assert refused(CommandRejected, form(insurance_paid_fen=150001)).field == "insurance_paid_fen"


def test_an_institution_that_is_not_designated_is_refused() -> None:
    error = refused(CommandRejected, form(institution_id="some-clinic"))
    assert error.field == "institution_id"
    assert "不是定点康复服务机构" in error.message


def test_an_institution_not_designated_for_the_item_is_refused() -> None:
    error = refused(CommandRejected, form(institution_id="lj-rehab-centre"))
    assert "不是低视力视功能训练的定点机构" in error.message


def test_a_service_before_any_approval_reached_delivery_is_refused_saying_so() -> None:
    error = refused(StateConflict, form(), context(entitlements=()))
    assert "尚未收到此申请" in error.message
    assert "须经区残联办批准后才能记录服务" in error.message
    assert error.field == "application_id"


def test_a_service_under_a_rejected_application_is_refused_with_the_reason() -> None:
    error = refused(StateConflict, form(), context(entitlements=(), rejection_reason="不符合本年度补助条件"))
    assert "未获区残联办批准（不符合本年度补助条件）" in error.message


def test_a_service_for_another_person_than_the_approved_one_is_refused() -> None:
    assert refused(StateConflict, form(person_id=uuid4())).field == "person_id"


def test_an_item_the_application_does_not_approve_is_refused() -> None:
    error = refused(StateConflict, form(item="cataract_surgery"))
    assert error.field == "item"
    assert "已批准：低视力视功能训练" in error.message


def test_the_institution_approved_for_the_year_is_fixed() -> None:
    error = refused(StateConflict, form(institution_id="cq-aier-eye"))
    assert error.field == "institution_id"
    assert "定在批准的机构 cqmu-second" in error.message


def test_a_reimbursed_device_may_be_recorded_by_any_institution_designated_for_it() -> None:
    device = replace(LOW_VISION, item="self_purchased_device_subsidy", institution_id=None)
    filled = form(item="self_purchased_device_subsidy", institution_id="lj-rehab-centre")
    [event] = ServiceRecord.record(filled, context(device))
    assert event.form.institution_id == "lj-rehab-centre"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_start": date(2023, 12, 1)}, "period_start"),
        ({"period_end": date(2025, 1, 5), "signed_on": date(2025, 1, 5)}, "period_end"),
    ],
)
def test_the_service_period_lies_in_the_application_year(changes: dict[str, Any], field: str) -> None:
    known = context(today=date(2025, 2, 1))
    assert refused(CommandRejected, form(**changes), known).field == field


def test_a_service_that_started_before_the_approval_is_refused() -> None:
    error = refused(CommandRejected, form(period_start=date(2024, 10, 30)))
    assert error.field == "period_start"
    assert error.message == "服务周期开始于 2024年10月30日，早于区残联办批准日期 2024年11月1日"


def test_a_period_already_recorded_is_not_recorded_twice() -> None:
    [earlier] = ServiceRecord.record(
        form(period_end=date(2024, 11, 30), signed_on=date(2024, 11, 30)), context()
    )
    overlapping = form(period_start=date(2024, 11, 30))
    error = refused(StateConflict, overlapping, context(earlier=(earlier,)))
    assert str(earlier.delivery_id) in error.message
    assert "2024年11月4日 至 2024年11月30日：同一周期只记录一次" in error.message


def test_the_following_period_is_a_new_record() -> None:
    [earlier] = ServiceRecord.record(
        form(period_end=date(2024, 11, 30), signed_on=date(2024, 11, 30)), context()
    )
    [later] = ServiceRecord.record(form(period_start=date(2024, 12, 1)), context(earlier=(earlier,)))
    assert isinstance(later, ServiceDelivered)
    assert later.delivery_id != earlier.delivery_id
