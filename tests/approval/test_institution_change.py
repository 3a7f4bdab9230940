"""Changing the service institution fixed for an approved item: given an application, when 区残联办 approves a
change, then the change or a clear refusal — in the domain and over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kernel.domain.rejections import CommandRejected, StateConflict
from services.approval.domain import Application, Status
from services.approval.events import (
    InstitutionChange,
    InstitutionChangeApproved,
    ItemApproval,
    RequestedItem,
    Signatories,
)
from tests.approval.test_api import approval, client, endorsed, error_of, referred, stored_payloads
from tests.approval.test_domain import (
    DESIGNATED,
    OFFICE_BLOCK,
    STREET_BLOCK,
    TODAY,
    History,
    approve,
    form,
    submitted,
)
from tests.approval.test_domain import endorsed as endorsed_history

__all__ = ["client"]
DESIGNATED_WITH_AIER = {**DESIGNATED, "cq-aier-eye": frozenset({"low_vision_training", "cataract_surgery"})}


def approved_history() -> History:
    history = endorsed_history()
    return [*history, *approve(history)]


def change(**changes: Any) -> InstitutionChange:
    values: dict[str, Any] = {
        "item": "low_vision_training",
        "from_institution_id": "cqmu-second",
        "to_institution_id": "cq-aier-eye",
        "reason": "申请人迁居，就近康复",
        "signatories": OFFICE_BLOCK,
        "decided_on": date(2024, 11, 15),
    }
    return InstitutionChange(**{**values, **changes})


def changed(history: History, request: InstitutionChange | None = None) -> History:
    return Application(history).change_institution(
        request or change(), designated=DESIGNATED_WITH_AIER, today=TODAY
    )


def refused(
    error: type[Exception], request: InstitutionChange, history: History | None = None
) -> CommandRejected:
    with pytest.raises(error) as caught:
        changed(history or approved_history(), request)
    assert isinstance(caught.value, CommandRejected)
    return caught.value


# -- domain ----------------------------------------------------------------------------------------
def test_an_approved_change_moves_the_item_to_the_new_institution_and_keeps_the_application_approved() -> (
    None
):
    history = approved_history()
    [event] = changed(history)
    assert isinstance(event, InstitutionChangeApproved)
    assert (event.item, event.from_institution_id, event.to_institution_id) == (
        "low_vision_training",
        "cqmu-second",
        "cq-aier-eye",
    )
    assert event.approved_on == date(2024, 11, 15)
    application = Application([*history, event])
    assert application.status is Status.APPROVED
    assert application.institutions() == {"low_vision_training": "cq-aier-eye"}


def test_a_second_change_starts_from_the_institution_the_first_one_fixed() -> None:
    history = approved_history()
    history += changed(history)
    second = change(
        from_institution_id="cq-aier-eye", to_institution_id="cqmu-second", decided_on=date(2024, 12, 1)
    )
    history += changed(history, second)
    assert Application(history).institutions() == {"low_vision_training": "cqmu-second"}


def test_a_change_naming_a_from_institution_that_is_no_longer_fixed_is_refused() -> None:
    history = approved_history()
    history += changed(history)
    error = refused(StateConflict, change(decided_on=date(2024, 12, 1)), history)
    assert error.field == "from_institution_id"
    assert "目前定在 cq-aier-eye" in str(error)


def test_only_an_approved_application_changes_institution() -> None:
    for history in (submitted(), endorsed_history()):
        assert refused(StateConflict, change(), history).field == "item"


def test_a_rejected_application_has_no_institution_to_change() -> None:
    history = endorsed_history()
    history += Application(history).reject("不符合条件", OFFICE_BLOCK, date(2024, 11, 1), TODAY)
    assert "未批准" in str(refused(StateConflict, change(), history))


def test_an_item_that_was_not_approved_cannot_change_institution() -> None:
    error = refused(StateConflict, change(item="cataract_surgery", from_institution_id="cqmu-second"))
    assert error.field == "item"
    assert "此申请没有批准" in str(error)


def test_the_new_institution_must_be_designated_for_the_item() -> None:
    error = refused(CommandRejected, change(to_institution_id="lj-rehab-centre"))
    assert error.field == "to_institution_id"
    assert "不是该项目的定点康复服务机构" in str(error)


def test_a_change_to_the_institution_already_fixed_is_refused() -> None:
    assert refused(CommandRejected, change(to_institution_id="cqmu-second")).field == "to_institution_id"


def test_the_self_purchased_device_subsidy_has_no_institution_to_change() -> None:
    device = RequestedItem("self_purchased_device_subsidy", poor=True)
    history = endorsed_history(form(device))
    history += approve(
        history, ItemApproval("self_purchased_device_subsidy", "fixed_amount", amount_fen=50000)
    )
    request = change(item="self_purchased_device_subsidy")
    assert "报销给本人" in str(refused(CommandRejected, request, history))


def test_a_change_without_a_reason_is_refused() -> None:
    assert refused(CommandRejected, change(reason="  ")).field == "reason"


def test_a_change_before_the_approval_or_in_the_future_or_another_year_is_refused() -> None:
    for day in (date(2024, 10, 31), date(2025, 1, 2)):
        assert refused(CommandRejected, change(decided_on=day)).field == "decided_on"
    history = endorsed_history()
    history += approve(history)
    later_today = Application(history).change_institution
    with pytest.raises(CommandRejected, match="变更日期 2025年1月2日 不在 2024 年内") as caught:
        later_today(
            change(decided_on=date(2025, 1, 2)), designated=DESIGNATED_WITH_AIER, today=date(2025, 2, 1)
        )
    assert caught.value.field == "decided_on"


def test_the_office_block_of_a_change_needs_a_reviewer() -> None:
    block = Signatories(responsible="赵主任", handler="孙干事")
    assert refused(CommandRejected, change(signatories=block)).field == "signatories.reviewer"


def test_the_office_signs_a_change_in_the_roles_it_held_but_no_street_signer_may_sign_it() -> None:
    swapped = Signatories(responsible="钱科长", reviewer="赵主任", handler="孙干事")
    assert "一人不能担任两个职责" in str(refused(CommandRejected, change(signatories=swapped)))
    street_signer = Signatories(responsible=STREET_BLOCK.responsible, reviewer="钱科长", handler="孙干事")
    assert refused(CommandRejected, change(signatories=street_signer)).field == "signatories.responsible"


# -- over HTTP -------------------------------------------------------------------------------------
def approved_application(client: TestClient) -> str:
    application_id = endorsed(client, referred(client))
    response = client.post(f"/applications/{application_id}/decision", json=approval())
    assert response.status_code == 201, response.text
    return application_id


def change_body(**changes: Any) -> dict[str, Any]:
    body = {
        "item": "low_vision_training",
        "from_institution_id": "cqmu-second",
        "to_institution_id": "cq-aier-eye",
        "reason": "申请人迁居，就近康复",
        "signatories": {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"},
        "decided_on": "2024-11-15",
    }
    return {**body, **changes}


def test_an_approved_change_of_institution_is_published_and_shown_on_the_application(
    client: TestClient,
) -> None:
    application_id = approved_application(client)
    response = client.post(f"/applications/{application_id}/institution-changes", json=change_body())
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/applications/{application_id}"
    assert response.json()["to_institution_id"] == "cq-aier-eye"

    [payload] = stored_payloads(client, "approval.institution_change_approved")
    assert payload["application_id"] == application_id
    assert payload["service_card_number"].startswith("LJ2024-")
    assert (payload["from_institution_id"], payload["to_institution_id"]) == ("cqmu-second", "cq-aier-eye")
    assert payload["approved_on"] == "2024-11-15"

    view = client.get(f"/applications/{application_id}").json()
    assert view["status"] == "approved"
    assert view["institutions"] == {"low_vision_training": "cq-aier-eye"}
    assert [found["to_institution_id"] for found in view["institution_changes"]] == ["cq-aier-eye"]


def test_a_change_for_an_application_not_yet_approved_is_a_conflict(client: TestClient) -> None:
    application_id = endorsed(client, referred(client))
    response = client.post(f"/applications/{application_id}/institution-changes", json=change_body())
    assert response.status_code == 409
    assert error_of(response)["field"] == "item"


def test_a_change_to_an_institution_not_designated_for_the_item_is_refused_naming_the_field(
    client: TestClient,
) -> None:
    application_id = approved_application(client)
    body = change_body(to_institution_id="lj-rehab-centre")
    response = client.post(f"/applications/{application_id}/institution-changes", json=body)
    assert response.status_code == 422
    assert error_of(response)["field"] == "to_institution_id"
    assert stored_payloads(client, "approval.institution_change_approved") == []
