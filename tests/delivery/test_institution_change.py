"""After 区残联办 approved a change of institution, the new institution records the item from that day and the
old one only for periods before it — in the domain and through the consumed event."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import APPROVAL_STREAM, CatalogueItem, InstitutionChangeApproved

from kernel.domain.rejections import StateConflict
from services.delivery.domain import InstitutionChange, ServiceRecord
from tests.delivery.test_api import (
    OFFICE,
    approved,
    client,
    consume,
    envelope,
    error_of,
    eventually,
    service,
)
from tests.delivery.test_domain import LOW_VISION, context, form

__all__ = ["client"]
MOVED = replace(
    LOW_VISION, institution_changes=(InstitutionChange("cqmu-second", "cq-aier-eye", date(2024, 11, 15)),)
)


# -- domain ----------------------------------------------------------------------------------------
def test_the_new_institution_records_a_period_from_the_change_on() -> None:
    filled = form(institution_id="cq-aier-eye", period_start=date(2024, 11, 15))
    [event] = ServiceRecord.record(filled, context(MOVED))
    assert event.form.institution_id == "cq-aier-eye"


def test_the_old_institution_still_records_a_period_that_ended_before_the_change() -> None:
    filled = form(period_start=date(2024, 11, 4), period_end=date(2024, 11, 14), signed_on=date(2024, 11, 14))
    assert ServiceRecord.record(filled, context(MOVED))


def test_the_old_institution_is_refused_for_a_period_after_the_change() -> None:
    filled = form(period_start=date(2024, 11, 20))
    with pytest.raises(StateConflict, match=r"自 2024年11月20日 起的.*定在 cq-aier-eye") as caught:
        ServiceRecord.record(filled, context(MOVED))
    assert caught.value.field == "institution_id"
    assert "区残联办的变更：2024年11月15日起从 cqmu-second 变更至 cq-aier-eye" in caught.value.message


def test_the_new_institution_is_refused_for_a_period_before_the_change() -> None:
    filled = form(institution_id="cq-aier-eye", period_start=date(2024, 11, 4), period_end=date(2024, 11, 10))
    with pytest.raises(StateConflict, match="定在 cqmu-second") as caught:
        ServiceRecord.record(replace(filled, signed_on=date(2024, 11, 10)), context(MOVED))
    assert caught.value.field == "institution_id"


def test_a_period_spanning_the_change_is_refused_so_each_institution_records_its_own_part() -> None:
    with pytest.raises(StateConflict, match=r"区残联办已于 2024年11月15日 将.*在此服务周期之内"):
        ServiceRecord.record(form(), context(MOVED))


# -- through the consumed event --------------------------------------------------------------------
def change_of(
    approval_envelope_payload: dict[str, str], day: date = date(2024, 11, 15)
) -> InstitutionChangeApproved:
    return InstitutionChangeApproved(
        application_id=UUID(approval_envelope_payload["application_id"]),
        person_id=UUID(approval_envelope_payload["person_id"]),
        application_year=2024,
        street="鸳鸯",
        service_card_number="LJ2024-000001",
        item=CatalogueItem.LOW_VISION_TRAINING,
        from_institution_id="cqmu-second",
        to_institution_id="cq-aier-eye",
        reason="申请人迁居，就近康复",
        signatories=OFFICE,
        approved_on=day,
    )


def test_a_published_change_lets_the_new_institution_record_and_refuses_the_old_one_for_later_periods(
    client: TestClient, redis_client: redis.Redis
) -> None:
    # Over the stream an aggregate's events are applied in version order: the approval, then the change.
    approval = approved(version=1)
    payload = change_of(approval.payload)
    for published in (approval, envelope(payload, payload.approved_on, version=2)):
        redis_client.xadd(APPROVAL_STREAM, published.to_wire())  # type: ignore[arg-type]
    person_id = approval.payload["person_id"]

    def moved() -> bool:
        [found] = client.get("/entitlements", params={"person_id": person_id}).json() or [{}]
        return found.get("current_institution_id") == "cq-aier-eye"

    assert eventually(moved)
    later = {"period_start": "2024-11-20", "period_end": "2024-12-20"}
    old = client.post("/deliveries", json=service(approval, **later))
    assert old.status_code == 409
    assert error_of(old)["field"] == "institution_id"
    new = client.post("/deliveries", json=service(approval, institution_id="cq-aier-eye", **later))
    assert new.status_code == 201, new.text
    earlier = {"period_start": "2024-11-04", "period_end": "2024-11-14", "signed_on": "2024-11-14"}
    assert client.post("/deliveries", json=service(approval, **earlier)).status_code == 201


def test_the_same_change_delivered_twice_is_applied_once(client: TestClient) -> None:
    approval = approved()
    payload = change_of(approval.payload)
    change = envelope(payload, payload.approved_on, version=5)
    assert consume(client, approval, change, change) == [True, True, False]
    [found] = client.get("/entitlements", params={"person_id": approval.payload["person_id"]}).json()
    assert found["institution_changes"] == [
        {
            "from_institution_id": "cqmu-second",
            "to_institution_id": "cq-aier-eye",
            "effective_on": "2024-11-15",
        }
    ]
    assert found["institution_id"] == "cqmu-second"
    assert found["current_institution_id"] == "cq-aier-eye"


def test_the_old_institutions_last_period_signed_after_the_change_is_recorded_as_its_own() -> None:
    # 000: 「残疾人选择定点康复机构后当年度原则上不作变更。确需变更的，须报区残联办核定」.
    # The period 11-04..11-14 began before the change of 11-15, so it is cqmu-second's, though signed on
    # 11-20: the service period decides, as settlement judges it (kernel/domain/institutions.py), so that
    # last period is paid.
    filled = form(period_start=date(2024, 11, 4), period_end=date(2024, 11, 14), signed_on=date(2024, 11, 20))
    [event] = ServiceRecord.record(filled, context(MOVED))
    assert event.form.institution_id == "cqmu-second"
