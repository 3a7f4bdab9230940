"""HTTP API of the bulk survey import: upload a street's sheet (xlsx or csv), download the template.

The multipart form is parsed by python-multipart (Starlette's ``request.form()``): the file arrives as an
``UploadFile`` spooled to disk past 1 MiB, and the sheet is streamed from it, so neither the upload nor
its rows are held in memory whole.
"""

from __future__ import annotations

import re
from datetime import date
from typing import IO, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from kernel.access.access import PERSONAL_DATA, Caller, audit_entry, audit_trail_of
from kernel.access.scopes import require_area
from kernel.domain.clock import cn_date, today
from kernel.domain.rejections import CommandRejected, PayloadTooLarge
from kernel.http import Command, KeyedCommand, jurisdiction_of
from kernel.reference import Jurisdiction
from kernel.web.problems import PROBLEM_MEDIA_TYPE, problem_body
from kernel.web.text_guard import hidden_characters, hidden_characters_message
from services.survey.import_rows import TEMPLATE_COLUMNS, TEMPLATE_NOTES, SurveyCampaign
from services.survey.imports import ImportedRow, SheetRejected, import_survey_file
from services.survey.schemas import ImportedPerson, SheetReport, SurveyImported
from services.survey.sheet import MAX_BYTES, template

router = APIRouter(tags=["survey import"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "康复需求调查导入模板.xlsx"
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

_FORM_SCHEMA = {
    "type": "object",
    "required": ["street", "survey_year", "surveyed_on", "surveyor", "file"],
    "properties": {
        "street": {"type": "string", "description": "Street 街道 of the jurisdiction the sheet is for."},
        "survey_year": {"type": "integer", "description": "Survey year 调查年度.", "example": 2024},
        "surveyed_on": {
            "type": "string",
            "format": "date",
            "description": "Date of the survey 调查日期, within survey_year; also the registration date.",
        },
        "surveyor": {"type": "string", "description": "Survey team member responsible 调查人."},
        "file": {
            "type": "string",
            "format": "binary",
            "description": (
                "The sheet: .xlsx (first worksheet) or .csv (UTF-8 or GBK), headers as the template."
            ),
        },
    },
}


FORM_FIELDS = ("street", "survey_year", "surveyed_on", "surveyor")
_FORM_OVERHEAD = 64 * 1024
"""What the form's other fields and the multipart boundaries may add to the file's size."""


@router.post(
    "/imports/surveys",
    status_code=status.HTTP_201_CREATED,
    response_model=SurveyImported,
    summary="Import a street's needs survey 康复需求调查 from an xlsx or csv sheet, all rows or none",
    description=(
        "Each row is one person (附件1 basic information + this year's needs), validated with the same rules "
        "as POST /persons and POST /persons/{id}/surveys. A person whose ID number is already registered "
        "only gets the survey. If any row fails, nothing is imported and the answer (422) lists every "
        "failing row: row number, column label and reason. Up to 20,000 rows and 10 MB per sheet. Download "
        "the headers from GET /imports/surveys/template."
    ),
    responses={
        422: {"model": SheetReport, "description": "Nothing imported; the rows and columns at fault."},
        413: {
            "description": "The file is over 10 MB (survey.file.too_large) or an xlsx unpacks to too much "
            "(survey.file.unpacked_too_large): application/problem+json, in Chinese."
        },
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _FORM_SCHEMA}}},
        **PERSONAL_DATA,  # the answer names each person imported: audited here, one entry per person
    },
)
async def import_surveys(request: Request, command: Command, caller: Caller) -> Response:
    form = await _read_form(request)
    try:
        answer, imported = await _import_form(request, command, caller, form)
    except SheetRejected as rejected:
        return _report(rejected)
    finally:
        await form.close()  # the spooled file is deleted
    if caller is not None:  # the access middleware audits reads by GET only
        entries = [
            audit_entry(request, caller, answer.status_code, subject=str(row.person_id)) for row in imported
        ]
        await run_in_threadpool(audit_trail_of(request).record_all, entries)
    return answer


async def _import_form(
    request: Request, command: KeyedCommand, caller: Caller, form: FormData
) -> tuple[Response, list[ImportedRow]]:
    fields = {name: value.strip() for name in FORM_FIELDS if isinstance(value := form.get(name, ""), str)}
    campaign = _campaign(fields, jurisdiction_of(request))
    require_area(caller, campaign.street)  # a street's staff import only their own street's sheet
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.size:
        raise CommandRejected("请选择要上传的表格文件（file）", field="file", code="survey.file.required")
    if upload.size > MAX_BYTES:
        raise _too_large()
    area = jurisdiction_of(request)
    return await run_in_threadpool(_import, command, area, campaign, upload.file, upload.filename)


def _import(
    command: KeyedCommand,
    area: Jurisdiction,
    campaign: SurveyCampaign,
    file: IO[bytes],
    filename: str | None,
) -> tuple[Response, list[ImportedRow]]:
    """All rows in the command's unit of work, answered with the persons imported; a refused sheet rolls
    the unit back (SheetRejected leaves the ``with``)."""
    with command.unit() as unit:
        imported = import_survey_file(
            unit, area.streets, campaign, file, filename, communities=area.communities.listed
        )
        location = "/surveys?" + urlencode({"street": campaign.street, "year": campaign.survey_year})
        return command.answer(_imported(campaign, imported), status=201, location=location), imported


@router.get(
    "/imports/surveys/template",
    summary="The xlsx template of the survey import (headers, drop-downs, 填写说明)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "An xlsx workbook."}},
)
def survey_template() -> Response:
    content = template("康复需求调查", TEMPLATE_COLUMNS, TEMPLATE_NOTES)
    disposition = f"attachment; filename=survey-import.xlsx; filename*=UTF-8''{quote(TEMPLATE_NAME)}"
    return Response(content=content, media_type=XLSX, headers={"Content-Disposition": disposition})


# -- the form ------------------------------------------------------------------------------------------------
async def _read_form(request: Request) -> FormData:
    """The multipart form, its file spooled to disk; a declared size over the limit is refused unread."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise CommandRejected(
            "请以 multipart/form-data 上传：字段 street、survey_year、surveyed_on、surveyor 和文件 file",
            field="file",
            code="survey.file.not_multipart",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES + _FORM_OVERHEAD:
        raise _too_large()
    try:
        return await request.form(max_files=1, max_fields=len(FORM_FIELDS) + 4)
    except HTTPException as refused:  # python-multipart could not parse it, or too many parts
        if refused.status_code == status.HTTP_413_CONTENT_TOO_LARGE:
            raise  # the body limit cut a streamed body off: its 413
        raise CommandRejected(
            f"无法读取上传的表单（{refused.detail}）", field="file", code="survey.file.not_multipart"
        ) from None


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批导入", field="file", code="survey.file.too_large"
    )


def _campaign(fields: dict[str, str], jurisdiction: Jurisdiction) -> SurveyCampaign:
    street = fields.get("street", "")
    if street not in jurisdiction.streets:
        raise CommandRejected(
            f"“{street}”不是本辖区的街道；可选：{'、'.join(jurisdiction.streets)}",
            field="street",
            code="survey.street.outside_jurisdiction" if street else "survey.street.required",
        )
    year_text = fields.get("survey_year", "")
    if not _YEAR.fullmatch(year_text) or not 2000 <= int(year_text) <= 2100:
        raise CommandRejected(
            f"调查年度“{year_text}”应为四位半角数字的年份，如 2024",
            field="survey_year",
            code="survey.survey_year.invalid",
        )
    surveyed_on = _iso_date(fields.get("surveyed_on", ""))
    survey_year = int(year_text)
    if surveyed_on.year != survey_year:
        raise CommandRejected(
            f"调查日期 {cn_date(surveyed_on)} 不在调查年度 {survey_year} 内",
            field="surveyed_on",
            code="survey.surveyed_on.outside_year",
        )
    if surveyed_on > today():
        raise CommandRejected(
            f"调查日期 {cn_date(surveyed_on)} 晚于今天", field="surveyed_on", code="survey.surveyed_on.future"
        )
    surveyor = fields.get("surveyor", "")
    if not surveyor or len(surveyor) > 200:
        raise CommandRejected("请填写调查人（最多200字）", field="surveyor", code="survey.surveyor.required")
    if hidden := hidden_characters(surveyor):
        message = hidden_characters_message("surveyor", hidden)
        raise CommandRejected(message, field="surveyor", code="request.control_character")
    return SurveyCampaign(street, survey_year, surveyed_on, surveyor)


def _iso_date(text: str) -> date:
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise CommandRejected(
        f"调查日期“{text}”应写成 2024-10-15（半角数字）",
        field="surveyed_on",
        code="survey.surveyed_on.invalid",
    )


def _report(rejected: SheetRejected) -> JSONResponse:
    """The 422 report (``SheetReport``): every error of the sheet, built as plain dicts once, since a sheet
    of 20,000 rows may bring tens of thousands of them."""
    problems: list[dict[str, Any]] = [
        {
            "field": f"file.{error.row}.{error.column}" if error.column else "file",
            "code": error.code if "." in error.code else f"survey.import.{error.code}",
            "message": error.reason,
            "row": error.row,
            "column": error.column,
            "detail_field": error.field,
        }
        for error in rejected.errors
    ]
    failed = len({error.row for error in rejected.errors if error.row})
    detail = f"表格未导入：{failed or 1} 行有 {len(problems)} 处错误，请更正后重新上传整张表"
    body = problem_body(422, "survey.import.rows_invalid", detail, errors=problems)
    content = {**body, "rows": rejected.rows, "failed_rows": failed, "imported": 0}
    return JSONResponse(status_code=422, content=content, media_type=PROBLEM_MEDIA_TYPE)


def _imported(campaign: SurveyCampaign, rows: list[ImportedRow]) -> SurveyImported:
    return SurveyImported(
        street=campaign.street,
        survey_year=campaign.survey_year,
        surveyed_on=campaign.surveyed_on,
        rows=len(rows),
        registered=sum(row.newly_registered for row in rows),
        surveyed=len(rows),
        persons=[ImportedPerson.model_validate(vars(row)) for row in rows],
    )
