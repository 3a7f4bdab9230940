"""Reading the survey import sheet: headers, cells as street offices write them, one error per bad cell."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kernel.domain.rejections import CommandRejected
from services.survey.import_rows import (
    ANCHOR,
    HEADERS,
    ParsedRow,
    SurveyCampaign,
    parse_row,
    parse_rows,
    rejection_error,
)
from services.survey.sheet import SheetRow, UnreadableSheet, canonical_header, read_sheet
from tests.survey.people import make_id
from tests.survey.sheets import ELDER_ID, MAN_ID, base_row, csv_bytes

CAMPAIGN = SurveyCampaign(street="鸳鸯", survey_year=2024, surveyed_on=date(2024, 10, 15), surveyor="张丽")


def parsed(**changes: Any) -> ParsedRow:
    result = parse_row(SheetRow(2, base_row(**changes)), CAMPAIGN)
    assert isinstance(result, ParsedRow), result
    return result


def errors(**changes: Any) -> list[tuple[str, str]]:
    result = parse_row(SheetRow(7, base_row(**changes)), CAMPAIGN)
    assert isinstance(result, list), result
    assert {error.row for error in result} == {7}
    return [(error.column, error.code) for error in result]


def test_a_row_becomes_the_persons_details_and_the_campaigns_survey() -> None:
    row = parsed()
    assert row.details.street == "鸳鸯" and row.details.name == "李明" and row.details.sex == "male"
    assert row.details.disability_categories == ("vision",) and row.details.disability_grade == "grade_2"
    assert row.details.economic_status == "subsistence_allowance"
    assert row.details.medical_insurance == ("urban_rural_resident",)
    assert row.needs.survey_year == 2024 and row.needs.surveyed_on == date(2024, 10, 15)
    assert row.needs.surveyor == "张丽" and row.needs.needed_items == ("low_vision_training",)
    assert row.needs.home_visit_required is False


@pytest.mark.parametrize(
    ("cell", "categories"),
    [
        ("视力、肢体", ("vision", "physical")),
        ("视力残疾，肢体残疾", ("vision", "physical")),
        ("多重（视力、肢体）", ("vision", "physical")),
        ("vision physical", ("vision", "physical")),
    ],
)
def test_several_disability_categories_may_be_written_as_the_office_writes_them(
    cell: str, categories: tuple[str, ...]
) -> None:
    assert parsed(残疾类别=cell).details.disability_categories == categories


def test_multiple_disability_naming_one_category_is_an_error() -> None:
    assert errors(残疾类别="多重（视力）") == [("残疾类别", "invalid_choice")]


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("精神残疾人生活自理、心理疏导", ("support_service_mental",)),
        ("支持性服务（1）中途盲者心理疏导", ("support_service_midlife_blind",)),
        ("□白内障复明手术、□辅助器具免费适配", ("cataract_surgery", "assistive_device_fitting")),
        ("low_vision_training; cataract_surgery", ("low_vision_training", "cataract_surgery")),
        ("白内障，白内障复明手术", ("cataract_surgery",)),
    ],
)
def test_needed_items_are_read_from_the_forms_labels_or_codes(cell: str, items: tuple[str, ...]) -> None:
    assert parsed(康复需求项目=cell).needs.needed_items == items


def test_an_unknown_needed_item_is_named_in_the_error() -> None:
    result = parse_row(SheetRow(3, base_row(康复需求项目="低视力视功能训练、针灸")), CAMPAIGN)
    assert isinstance(result, list)
    [error] = result
    assert (error.column, error.code) == ("康复需求项目", "invalid_choice")
    assert "针灸" in error.reason and "白内障复明手术" in error.reason


@pytest.mark.parametrize(
    ("cell", "insurance"),
    [
        ("享受城镇职工基本医疗保险、享受医疗救助", ("urban_employee", "medical_aid")),
        ("城乡居民医保", ("urban_rural_resident",)),
        ("无医疗保险", ("none",)),
    ],
)
def test_medical_insurance_accepts_the_forms_wording(cell: str, insurance: tuple[str, ...]) -> None:
    assert parsed(医疗保险=cell).details.medical_insurance == insurance


@pytest.mark.parametrize(
    ("cell", "grade"),
    [("一级", "grade_1"), ("4级", "grade_4"), ("未定级", "ungraded"), ("grade_3", "grade_3")],
)
def test_grades_are_read_from_labels(cell: str, grade: str) -> None:
    assert parsed(残疾等级=cell).details.disability_grade == grade


@pytest.mark.parametrize("cell", ["1958-04-12", "1958/4/12", "1958.04.12", "1958年4月12日", "19580412", ""])
def test_birth_dates_are_read_in_the_usual_spellings_or_taken_from_the_id_number(cell: str) -> None:
    assert parsed(出生日期=cell).details.birth_date == date(1958, 4, 12)


@pytest.mark.parametrize(
    ("cell", "code"), [("１９５８-04-12", "invalid_date"), ("1958-02-30", "invalid_date")]
)
def test_a_date_with_full_width_digits_or_no_such_day_is_an_error(cell: str, code: str) -> None:
    assert errors(出生日期=cell) == [("出生日期", code)]


@pytest.mark.parametrize(("cell", "expected"), [("是", True), ("√", True), ("否", False), ("", False)])
def test_home_visit_is_yes_or_no_and_blank_means_no(cell: str, expected: bool) -> None:
    assert parsed(行动不便=cell).needs.home_visit_required is expected


def test_needs_must_be_stated_yes_or_no() -> None:
    assert errors(康复需求="") == [("康复需求", "required")]
    assert errors(康复需求="也许") == [("康复需求", "invalid_choice")]


def test_a_guardians_sex_is_taken_from_the_guardians_id_number_when_left_blank() -> None:
    mother_id = make_id(date(1985, 3, 15), "242")
    row = parsed(
        监护人姓名="王芳", 与残疾人关系="母亲", 监护人联系电话="13900139000", 监护人身份证号=mother_id
    )
    assert row.details.guardian is not None
    assert row.details.guardian.sex == "female" and row.details.guardian.id_number == mother_id


def test_a_half_filled_guardian_names_each_missing_cell() -> None:
    assert errors(监护人姓名="王芳") == [
        ("监护人性别", "required"),
        ("与残疾人关系", "required"),
        ("监护人联系电话", "required"),
    ]


def test_a_row_of_another_street_is_an_error() -> None:
    assert errors(街道="人和") == [("街道", "other_street")]
    assert parsed(街道="鸳鸯").details.street == "鸳鸯"


def test_an_id_number_in_scientific_notation_lost_its_digits() -> None:
    assert errors(身份证号="5.00112E+17") == [("身份证号", "number_lost_digits")]


def test_an_invalid_id_number_is_reported_once_with_the_domains_reason() -> None:
    result = parse_row(SheetRow(4, base_row(身份证号=MAN_ID[:17])), CAMPAIGN)
    assert isinstance(result, list)
    [error] = result
    assert (error.column, error.code) == ("身份证号", "survey.id_number.length")
    assert "应为 18 位" in error.reason


def test_a_too_long_community_is_an_error() -> None:
    assert errors(社区="社" * 51) == [("社区", "too_long")]


def test_names_with_the_middle_dot_and_characters_outside_the_bmp_are_kept() -> None:
    assert parsed(姓名="阿依古丽·买买提").details.name == "阿依古丽·买买提"
    assert parsed(姓名="𠮷田").details.name == "𠮷田"


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("guardian.phone", "监护人联系电话"),
        ("certificate_number", "残疾人证号"),
        ("needed_items", "康复需求项目"),
        ("surveyed_on", "调查日期"),
        ("supersedes", "身份证号"),
        (None, "（整行）"),
    ],
)
def test_a_domain_rejection_is_reported_under_the_column_users_know(field: str | None, column: str) -> None:
    assert rejection_error(9, CommandRejected("no", field=field)).column == column


# -- the sheet itself --------------------------------------------------------------------------------------
def test_headers_are_recognised_without_spaces_remarks_or_stars() -> None:
    assert canonical_header("姓 名") == "姓名"
    assert canonical_header("残疾人证号（持证必填）") == "残疾人证号"
    assert canonical_header("*身份证号(必填)") == "身份证号"
    assert HEADERS[canonical_header("享受医疗保险情况")] == "医疗保险"


def test_blank_rows_are_skipped_and_rows_keep_the_spreadsheets_numbers() -> None:
    content = csv_bytes([base_row()]) + b",,,\n" + csv_bytes([base_row(身份证号=ELDER_ID)]).split(b"\n", 1)[1]
    sheet = read_sheet(content, "a.csv", HEADERS, ANCHOR)
    assert [row.number for row in sheet.rows] == [2, 4]


def test_an_unknown_column_such_as_the_serial_number_is_ignored() -> None:
    content = csv_bytes([{**base_row(), "序号": "1"}], headers=["序号", *base_row()])
    rows, problems = parse_rows(read_sheet(content, None, HEADERS, ANCHOR), CAMPAIGN)
    assert problems == [] and len(rows) == 1


def test_a_column_given_twice_makes_the_sheet_unreadable() -> None:
    headers = [*base_row(), "身份证号码"]
    with pytest.raises(UnreadableSheet) as raised:
        read_sheet(csv_bytes([base_row()], headers=headers), None, HEADERS, ANCHOR)
    [problem] = raised.value.problems
    assert (problem.row, problem.column, problem.code) == (1, "身份证号", "duplicate_column")


def test_an_empty_upload_is_unreadable() -> None:
    with pytest.raises(UnreadableSheet) as raised:
        read_sheet(b"", "a.csv", HEADERS, ANCHOR)
    assert raised.value.problems[0].code == "empty_file"


def test_a_rows_low_vision_hardship_and_residence_permit_reach_its_survey() -> None:
    row = parsed(残疾细类="低视力", 家庭经济困难情况="特困供养、防止返贫监测对象", 持居住证="是")

    assert row.needs.disability_subtypes == ("low_vision",)
    assert row.needs.hardship_statuses == ("extreme_poverty_support", "poverty_relapse_monitoring")
    assert row.needs.residence_permit is True


def test_a_sheet_without_the_person_fact_columns_records_none_of_them() -> None:
    row = parsed()  # the columns are not in base_row: an older sheet

    assert (row.needs.disability_subtypes, row.needs.hardship_statuses, row.needs.residence_permit) == (
        (),
        (),
        False,
    )


def test_an_unknown_hardship_status_is_an_error_of_its_column() -> None:
    assert errors(家庭经济困难情况="贫困户") == [("家庭经济困难情况", "invalid_choice")]
