"""Builders of survey import sheets (csv and xlsx) as a street office fills them in."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook

from tests.survey.people import make_id

HEADERS = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "身份证号",
    "残疾人证号",
    "残疾类别",
    "残疾等级",
    "联系电话",
    "家庭住址",
    "户籍所在地",
    "现居住地",
    "社区",
    "家庭经济状况",
    "医疗保险",
    "监护人姓名",
    "监护人性别",
    "与残疾人关系",
    "监护人联系电话",
    "监护人身份证号",
    "康复需求",
    "康复需求项目",
    "行动不便",
)

MAN_ID = make_id(date(1958, 4, 12))
GIRL_ID = make_id(date(2019, 6, 1), "124")
WOMAN_ID = make_id(date(1970, 1, 20), "342")
ELDER_ID = make_id(date(1945, 9, 3), "451")


def base_row(**changes: Any) -> dict[str, Any]:
    """A certified man with vision disability, grade 2, needing low vision training."""
    row = {
        "姓名": "李明",
        "性别": "男",
        "民族": "汉族",
        "出生日期": "1958-04-12",
        "身份证号": MAN_ID,
        "残疾人证号": MAN_ID + "12",
        "残疾类别": "视力",
        "残疾等级": "二级",
        "联系电话": "13800138000",
        "家庭住址": "两江新区鸳鸯街道金渝大道88号3-2",
        "户籍所在地": "重庆市渝北区",
        "现居住地": "两江新区鸳鸯街道",
        "社区": "金渝社区",
        "家庭经济状况": "低保家庭",
        "医疗保险": "城乡居民基本医疗保险",
        "康复需求": "有",
        "康复需求项目": "低视力视功能训练",
        "行动不便": "",
    }
    row.update(changes)
    return row


def four_people() -> list[dict[str, Any]]:
    """A certified man, an uncertified girl with her mother, a woman without needs, a housebound elder."""
    return [
        base_row(),
        base_row(
            姓名="李小雨",
            性别="女",
            出生日期="2019年6月1日",
            身份证号=GIRL_ID,
            残疾人证号="",
            残疾类别="听力",
            残疾等级="未定级",
            监护人姓名="王芳",
            监护人性别="",
            与残疾人关系="母亲",
            监护人联系电话="13900139000",
            监护人身份证号=make_id(date(1985, 3, 15), "242"),
            康复需求项目="儿童康复训练",
        ),
        base_row(
            姓名="阿依古丽·买买提",
            性别="女",
            民族="维吾尔族",
            出生日期="",
            身份证号=WOMAN_ID,
            残疾人证号=WOMAN_ID + "43",
            残疾类别="肢体",
            残疾等级="三级",
            家庭经济状况="其他",
            医疗保险="城镇职工基本医疗保险、医疗救助",
            康复需求="无",
            康复需求项目="",
        ),
        base_row(
            姓名="𠮷田",
            出生日期="1945/9/3",
            身份证号=ELDER_ID,
            残疾人证号=ELDER_ID + "71",
            残疾类别="视力、肢体",
            残疾等级="一级",
            联系电话="023-67881234",
            康复需求项目="辅助器具免费适配、白内障复明手术",
            行动不便="是",
        ),
    ]


def csv_bytes(
    rows: Sequence[dict[str, Any]], headers: Sequence[str] = HEADERS, encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(
    rows: Sequence[dict[str, Any]], headers: Sequence[str] = HEADERS, title: str | None = None
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
