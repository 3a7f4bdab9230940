"""A street's whole survey sheet in the browser: the template, a refused sheet with every error shown by
row and column (nothing imported), then the corrected sheet imported."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import Stack, assert_accessible, login, screenshot
from tests.survey.sheets import ELDER_ID, WOMAN_ID, base_row, csv_bytes

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows(woman_id: str, elder_phone: str) -> list[dict[str, Any]]:
    woman = base_row(
        姓名="陈导入", 性别="女", 出生日期="1970-01-20", 身份证号=woman_id, 残疾人证号=WOMAN_ID + "42"
    )
    woman.update(残疾类别="肢体", 残疾等级="二级", 康复需求="无", 康复需求项目="")
    elder = base_row(姓名="周导入", 出生日期="1945-09-03", 身份证号=ELDER_ID, 残疾人证号=ELDER_ID + "12")
    elder.update(联系电话=elder_phone, 行动不便="是")
    return [woman, elder]


def upload(page: Any, content: bytes) -> None:
    page.goto("/street/import")
    page.get_by_label(re.compile("^表格文件")).set_input_files(
        files=[{"name": "鸳鸯街道调查表.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="上传并导入").click()


def test_a_refused_sheet_lists_every_error_by_row_and_column_and_the_corrected_one_imports(
    page: Any, stack: Stack
) -> None:
    login(page, "鸳鸯调查员")
    template = page.request.get("/street/import/template")
    assert template.status == 200 and template.headers["content-type"] == XLSX
    wrong_id = WOMAN_ID[:-1] + ("0" if WOMAN_ID[-1] != "0" else "1")
    upload(page, csv_bytes(rows(wrong_id, elder_phone="1234")))
    report = page.locator("table.row-errors").inner_text()
    assert "第 2 行" in report and "身份证号" in report  # the woman's ID number
    assert "第 3 行" in report and "联系电话" in report  # the elder's phone
    assert "表格未导入" in page.get_by_role("alert").inner_text()
    assert page.get_by_label(re.compile("^调查人")).input_value() == "鸳鸯调查员"  # the form is kept
    assert_accessible(page)
    screenshot(page, "11-import-errors")
    with stack.survey_api("鸳鸯调查员") as api:
        assert "陈导入" not in {
            person["name"] for person in api.get("/persons", params={"limit": 500}).json()["items"]
        }

    upload(page, csv_bytes(rows(WOMAN_ID, elder_phone="13800138009")))
    assert "表格已导入：2 行，新登记 2 人" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="周导入").click()
    assert "行动不便" in page.content() and page.get_by_role("heading", level=1).inner_text() == "周导入"
    screenshot(page, "12-imported-person")
