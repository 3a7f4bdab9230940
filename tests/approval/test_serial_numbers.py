"""附件2's heading (（年度） 街道： 序号：): the 序号 a street gives a form is that form's in its street and
year."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from fastapi.testclient import TestClient

from tests.approval.test_api import application, client, referred, submitted
from tests.problem_json import field_error_of

__all__ = ["client"]


def test_a_second_form_with_a_serial_number_the_street_gave_that_year_is_refused_naming_the_number(
    client: TestClient,
) -> None:
    first = submitted(client, referred(client), serial_number="YY-2024-031")
    response = client.post("/applications", json=application(referred(client), serial_number="YY-2024-031"))
    error = field_error_of(response, 422)
    assert (error["field"], error["code"]) == ("serial_number", "approval.serial_number.taken")
    assert error["message"].startswith("序号“YY-2024-031”已用于鸳鸯街道2024年度的另一份申请：")
    assert first not in error["message"]  # no id a clerk cannot use: the list under the street shows it
    assert "序号不能重复" in error["message"]
    listed = client.get("/applications", params={"year": 2024, "street": "鸳鸯"}).json()
    assert [each["application_id"] for each in listed if each["serial_number"] == "YY-2024-031"] == [first]


def test_the_same_serial_number_in_another_street_is_another_form(client: TestClient) -> None:
    submitted(client, referred(client), serial_number="2024-032")
    other = application(referred(client), serial_number="2024-032", street="人和")
    assert client.post("/applications", json=other).status_code == 201


def test_a_store_older_than_the_numbers_table_refuses_a_number_its_earlier_forms_took(
    client: TestClient, tmp_path: Path
) -> None:
    submitted(client, referred(client), serial_number="2024-033")
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/approval.db")
    with engine.begin() as connection:  # the store as the release before the table left it
        connection.execute(sqlalchemy.text("DELETE FROM approval_serial_numbers"))
        built = "DELETE FROM approval_projection_builds WHERE projection = 'approval.serial_numbers'"
        connection.execute(sqlalchemy.text(built))
    engine.dispose()
    response = client.post("/applications", json=application(referred(client), serial_number="2024-033"))
    assert field_error_of(response, 422)["code"] == "approval.serial_number.taken"
