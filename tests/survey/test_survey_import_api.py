"""The bulk survey import over HTTP: a whole sheet or nothing, and a report of every failing row."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.problem_json import field_error_of, problem_of
from tests.survey.people import person_body
from tests.survey.sheets import (
    ELDER_ID,
    GIRL_ID,
    HEADERS,
    MAN_ID,
    base_row,
    csv_bytes,
    four_people,
    xlsx_bytes,
)

FORM = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
NEXT_YEAR = date.today().year + 1
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client: TestClient, content: bytes, filename: str = "鸳鸯街道2024.csv", **form: str) -> Any:
    return client.post(
        "/imports/surveys", data={**FORM, **form}, files={"file": (filename, content, "text/csv")}
    )


def count(client: TestClient, *types: str) -> int:
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        return len(unit.events_of_type(*types))


def problems(response: Any) -> list[tuple[int, str, str]]:
    return [(p["row"], p["column"], p["code"]) for p in problem_of(response, 422)["errors"]]


def nothing_written(client: TestClient) -> bool:
    listed = client.get("/persons").json()
    return listed["total"] == 0 and count(client, "survey.person_registered", "survey.need_surveyed") == 0


def test_a_valid_csv_sheet_registers_every_person_and_records_their_surveys(client: TestClient) -> None:
    response = upload(client, csv_bytes(four_people()))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["registered"], body["surveyed"]) == (4, 4, 4)
    assert [p["row"] for p in body["persons"]] == [2, 3, 4, 5]
    assert response.headers["location"].startswith("/surveys?street=")
    assert count(client, "survey.person_registered") == 4
    assert count(client, "survey.need_surveyed") == 4
    surveys = client.get("/surveys", params={"street": "鸳鸯", "year": 2024}).json()
    by_name = {s["name"]: s for s in surveys["items"]}
    assert by_name["𠮷田"]["needed_items"] == ["assistive_device_fitting", "cataract_surgery"]
    assert by_name["𠮷田"]["home_visit_required"] is True
    assert by_name["阿依古丽·买买提"]["has_needs"] is False
    assert by_name["李小雨"]["certified"] is False


def test_the_persons_details_are_recorded_as_the_sheet_says(client: TestClient) -> None:
    body = upload(client, csv_bytes(four_people())).json()
    elder = next(p for p in body["persons"] if p["name"] == "𠮷田")
    person = client.get(f"/persons/{elder['person_id']}").json()
    assert person["disability_categories"] == ["vision", "physical"]
    assert person["disability_grade"] == "grade_1"
    assert person["certificate_number"] == ELDER_ID + "71"
    assert person["phone"] == "023-67881234"
    assert person["registered_on"] == "2024-10-15"
    girl = next(p for p in body["persons"] if p["name"] == "李小雨")
    guardian = client.get(f"/persons/{girl['person_id']}").json()["guardian"]
    assert guardian == {**guardian, "name": "王芳", "sex": "female", "relation": "母亲"}


def test_a_valid_xlsx_sheet_with_a_title_row_and_date_cells_is_imported(client: TestClient) -> None:
    rows = four_people()
    rows[0]["出生日期"] = datetime(1958, 4, 12)
    rows[0]["联系电话"] = 13800138000
    content = xlsx_bytes(rows, title="两江新区残疾人康复需求调查表（鸳鸯街道）")
    response = upload(client, content, filename="鸳鸯街道.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["registered"] == 4
    assert count(client, "survey.need_surveyed") == 4


def test_a_gbk_encoded_csv_as_excel_saves_it_is_imported(client: TestClient) -> None:
    response = upload(client, csv_bytes(four_people()[:2], encoding="gb18030"))
    assert response.status_code == 201, response.text
    assert response.json()["registered"] == 2


def test_a_sheet_with_one_bad_row_imports_nothing_and_names_that_row_and_column(client: TestClient) -> None:
    rows = four_people()
    rows[2]["身份证号"] = rows[2]["身份证号"][:-1] + ("0" if rows[2]["身份证号"][-1] != "0" else "1")
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [(4, "身份证号", "survey.id_number.checksum")]
    report = response.json()
    assert report["code"] == "survey.import.rows_invalid"
    assert report["rows"] == 4 and report["failed_rows"] == 1 and report["imported"] == 0
    assert report["errors"][0]["field"] == "file.4.身份证号"
    assert "校验码" in report["errors"][0]["message"]
    assert nothing_written(client)


def test_a_rule_of_the_domain_breaking_in_the_last_row_imports_nothing(client: TestClient) -> None:
    rows = four_people()
    rows[3]["残疾人证号"] = (
        ELDER_ID + "11"
    )  # the certificate says vision only, the row says vision and physical
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [(5, "残疾人证号", "survey.certificate_number.category_mismatch")]
    assert nothing_written(client)


def test_full_width_digits_in_an_id_number_are_refused_not_normalised(client: TestClient) -> None:
    full_width = MAN_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = upload(client, csv_bytes([base_row(身份证号=full_width)]))
    [problem] = problem_of(response, 422)["errors"]
    assert (problem["row"], problem["column"], problem["code"]) == (
        2,
        "身份证号",
        "survey.id_number.characters",
    )
    assert "全角数字" in problem["message"]
    assert nothing_written(client)


def test_the_same_id_number_twice_in_a_sheet_is_reported_on_the_second_row(client: TestClient) -> None:
    rows = [*four_people(), base_row(身份证号=MAN_ID.lower(), 康复需求项目="盲人定向行走及适应训练")]
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [(6, "身份证号", "survey.import.duplicate_in_sheet")]
    assert "第 2 行" in response.json()["errors"][0]["message"]
    assert nothing_written(client)


def test_every_failing_row_and_cell_is_reported_at_once(client: TestClient) -> None:
    rows = four_people()
    rows[0].update(性别="男的", 残疾等级="五级")
    rows[1]["监护人姓名"] = ""
    rows[3]["康复需求项目"] = "按摩"
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [
        (2, "性别", "survey.import.invalid_choice"),
        (2, "残疾等级", "survey.import.invalid_choice"),
        (3, "监护人姓名", "survey.import.required"),
        (5, "康复需求项目", "survey.import.invalid_choice"),
    ]
    assert nothing_written(client)


def test_a_person_already_registered_gets_only_the_survey(client: TestClient) -> None:
    registered = client.post("/persons", json=person_body()).json()["person_id"]
    response = upload(client, csv_bytes(four_people()))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["registered"], body["surveyed"]) == (3, 4)
    [man] = [p for p in body["persons"] if p["row"] == 2]
    assert man == {**man, "person_id": registered, "newly_registered": False}
    assert count(client, "survey.person_registered") == 4
    assert [s["survey_id"] for s in client.get(f"/persons/{registered}/surveys").json()] == [man["survey_id"]]


def test_an_id_number_registered_under_another_name_is_refused_as_a_probable_typo(client: TestClient) -> None:
    client.post("/persons", json=person_body(name="李强"))
    response = upload(client, csv_bytes([base_row()]))
    assert problems(response) == [(2, "身份证号", "survey.id_number.registered_as_other_name")]
    assert "李强" not in response.text, "an error body must not tell who holds an ID number"


def test_importing_the_same_sheet_twice_imports_nothing_the_second_time(client: TestClient) -> None:
    assert upload(client, csv_bytes(four_people())).status_code == 201
    response = upload(client, csv_bytes(four_people()))
    assert {(row, column) for row, column, _ in problems(response)} == {(n, "身份证号") for n in (2, 3, 4, 5)}
    assert "每人每年只调查一次" in response.json()["errors"][0]["message"]
    assert count(client, "survey.need_surveyed") == 4


def test_an_adult_without_certificate_is_reported_under_the_certificate_column(client: TestClient) -> None:
    response = upload(client, csv_bytes([base_row(残疾人证号="")]))
    assert problems(response) == [(2, "残疾人证号", "survey.certificate_number.required_for_adult")]


def test_an_id_number_saved_as_a_number_in_excel_is_reported_as_lost_digits(client: TestClient) -> None:
    content = xlsx_bytes([base_row(身份证号=float(MAN_ID[:-1] + "0"))])
    response = upload(client, content, filename="x.xlsx")
    assert problems(response) == [(2, "身份证号", "survey.import.number_lost_digits")]


def test_a_missing_required_column_is_reported_on_the_header_row(client: TestClient) -> None:
    headers = [h for h in HEADERS if h != "康复需求"]
    response = upload(client, csv_bytes([base_row()], headers=headers))
    assert problems(response) == [(1, "康复需求", "survey.import.missing_column")]


def test_a_file_that_is_no_sheet_is_refused_with_a_reason(client: TestClient) -> None:
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
    assert problems(upload(client, old_excel, filename="a.xls")) == [
        (0, "", "survey.import.unsupported_format")
    ]
    assert problems(upload(client, b"hello,world\n1,2\n")) == [
        (1, "身份证号", "survey.import.missing_header")
    ]
    assert problems(upload(client, csv_bytes([]))) == [(2, "", "survey.import.no_rows")]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"street": "解放碑"}, "street"),
        ({"survey_year": "２０２４"}, "survey_year"),
        ({"surveyed_on": "2023-12-30"}, "surveyed_on"),
        ({"surveyed_on": f"{NEXT_YEAR}-01-01", "survey_year": str(NEXT_YEAR)}, "surveyed_on"),
        ({"surveyor": ""}, "surveyor"),
    ],
)
def test_a_bad_form_field_is_refused_before_the_sheet_is_read(
    client: TestClient, form: dict[str, str], field: str
) -> None:
    response = upload(client, csv_bytes(four_people()), **form)
    assert field_error_of(response, 422)["field"] == field
    assert nothing_written(client)


def test_an_upload_that_is_not_multipart_is_refused(client: TestClient) -> None:
    response = client.post("/imports/surveys", json=FORM)
    assert field_error_of(response, 422) == {
        "field": "file",
        "code": "survey.file.not_multipart",
        "message": field_error_of(response)["message"],
    }
    response = client.post("/imports/surveys", data=FORM)
    assert response.status_code == 422


def test_the_template_is_an_xlsx_with_the_form_headers_that_imports_once_filled(client: TestClient) -> None:
    response = client.get("/imports/surveys/template")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert {"姓名", "身份证号", "残疾人证号", "康复需求", "康复需求项目", "行动不便"} <= set(headers)
    assert sheet.cell(row=2, column=headers.index("身份证号") + 1).number_format == "@"
    assert "填写说明" in workbook.sheetnames
    for row in four_people():
        sheet.append([row.get(header) for header in headers])
    filled = io.BytesIO()
    workbook.save(filled)
    imported = upload(client, filled.getvalue(), filename="模板.xlsx")
    assert imported.status_code == 201, imported.text
    assert imported.json()["registered"] == 4


def test_the_import_is_documented_as_a_multipart_upload(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/imports/surveys"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(schema["required"]) == {"street", "survey_year", "surveyed_on", "surveyor", "file"}
    assert "422" in operation["responses"]


def test_a_girl_registered_by_import_keeps_her_id_number(client: TestClient) -> None:
    upload(client, csv_bytes(four_people()))
    found = client.get("/persons", params={"id_number": GIRL_ID}).json()
    assert found["total"] == 1


def test_a_file_over_the_size_limit_is_a_413_problem_naming_the_file(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.survey.import_api.MAX_BYTES", 1024)
    response = upload(client, b"x" * (80 * 1024))
    error = field_error_of(response, 413)
    assert (error["field"], error["code"]) == ("file", "survey.file.too_large")
    assert nothing_written(client)
