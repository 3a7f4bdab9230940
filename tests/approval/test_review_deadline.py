"""The review deadline: a complete application is decided within 5 working days; overdue ones are listed per
street."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from fastapi.testclient import TestClient

from services.approval.deadlines import add_working_days, working_days_between
from services.approval.domain import Application
from services.approval.events import AttachmentsAdded
from tests.approval.test_api import approval, client, endorsed, referred, submitted
from tests.approval.test_domain import ALL_BASIC, approve, form
from tests.approval.test_domain import endorsed as endorsed_history
from tests.approval.test_domain import submitted as submitted_history

__all__ = ["client"]

FIVE = 5  # 004: 「5个工作日内完成对申请人提交资料的审核」 (Anyang; Liangjiang's deployment gives the same)


def test_five_working_days_skip_the_weekend() -> None:
    friday = date(2024, 10, 25)
    assert add_working_days(friday, 5) == date(2024, 11, 1)
    assert working_days_between(date(2024, 11, 1), date(2024, 11, 5)) == 2


def test_a_complete_application_is_due_five_working_days_after_submission() -> None:
    application = Application(submitted_history())
    assert application.complete_on == date(2024, 10, 25)
    assert application.decision_due_on(FIVE) == date(2024, 11, 1)
    assert not application.overdue_on(date(2024, 11, 1), FIVE)
    assert application.overdue_on(date(2024, 11, 4), FIVE)


def test_an_incomplete_application_has_no_deadline_until_its_attachments_are_added() -> None:
    history = submitted_history(form(attachments=frozenset({"id_card_copy"})))
    assert Application(history).decision_due_on(FIVE) is None
    assert not Application(history).overdue_on(date(2024, 12, 31), FIVE)
    added = AttachmentsAdded(Application(history).application_id, ALL_BASIC, date(2024, 10, 29))  # type: ignore[arg-type]
    assert Application([*history, added]).decision_due_on(FIVE) == date(2024, 11, 5)


def test_a_decided_application_is_never_overdue() -> None:
    history = endorsed_history()
    history += approve(history, decided_on=date(2024, 11, 8))
    assert not Application(history).overdue_on(date(2024, 12, 31), FIVE)


def test_a_late_application_is_overdue_while_waiting_for_any_level() -> None:
    history = endorsed_history(replace(form(), submitted_on=date(2024, 10, 21)))
    assert Application(history).overdue_on(date(2024, 10, 29), FIVE)


def test_overdue_applications_are_listed_per_street_with_their_deadline(client: TestClient) -> None:
    waiting = submitted(client, referred(client))
    decided = endorsed(client, referred(client))
    assert client.post(f"/applications/{decided}/decision", json=approval()).status_code == 201
    elsewhere = submitted(client, referred(client), street="人和", serial_number="2024-099")

    found = client.get("/applications/overdue", params={"street": "鸳鸯", "as_of": "2024-11-06"}).json()
    assert [row["application_id"] for row in found] == [waiting]
    assert found[0]["decision_due_on"] == "2024-11-01"
    assert found[0]["working_days_overdue"] == 3
    everywhere = client.get("/applications/overdue", params={"as_of": "2024-11-06"}).json()
    assert {row["application_id"] for row in everywhere} == {waiting, elsewhere}
    assert client.get("/applications/overdue", params={"as_of": "2024-11-01"}).json() == []
    assert client.get(f"/applications/{waiting}").json()["decision_due_on"] == "2024-11-01"


def test_an_overdue_list_as_of_a_far_day_is_refused_before_any_working_day_is_counted(
    client: TestClient,
) -> None:
    """The bad-input audit: as_of=9999-12-31 kept the service counting days for minutes."""
    submitted(client, referred(client))

    for far in ("9999-12-31", "3000-01-01"):
        answer = client.get("/applications/overdue", params={"as_of": far})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "as_of"
    assert client.get("/applications/overdue", params={"as_of": "1999-12-31"}).status_code == 422
    assert client.get("/applications", params={"year": 99999}).status_code == 422
    assert client.get("/applications", params={"year": -1}).status_code == 422
