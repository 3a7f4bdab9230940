"""表格导入: a street's whole survey sheet at once (xlsx/csv), its template, and a report of every error.

The survey service reads and decides the sheet, all rows or none; the console passes the file on as
the clerk and shows the service's report row by row and column by column.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from console.agencies import Answer, Problem, ServiceUnavailable
from console.street.forms import default_date, iso_date
from console.web import FormValues, Sent, SignedIn, console_of, kept_form, new_form_key, render, render_answer

router = APIRouter(prefix="/street")

SURVEY = "survey"
FIELDS = ("street", "survey_year", "surveyed_on", "surveyor")
MAX_UPLOAD = 10 * 1024 * 1024
"""The survey service's own limit of a sheet (it answers 413 above it)."""


@router.get("/import")
def import_form(request: Request, clerk: SignedIn) -> Response:
    year = console_of(request).year()
    defaults = {
        "street": clerk.street or "",
        "survey_year": year,
        "surveyed_on": default_date(year),
        "surveyor": clerk.name,
    }
    form = kept_form(request, clerk) or FormValues.of(defaults)
    return _page(request, form, new_form_key())


@router.get("/import/template")
def template(request: Request, clerk: SignedIn) -> Response:
    """The service's xlsx template, as the service names it."""
    sheet = console_of(request).agencies.download(SURVEY, "/imports/surveys/template", user=clerk.name)
    headers = {"Content-Disposition": sheet.headers.get("content-disposition", "attachment")}
    return Response(sheet.content, media_type=sheet.headers.get("content-type"), headers=headers)


@router.post("/import")
async def import_sheet(request: Request, sent: Sent) -> Response:
    upload = (await request.form()).get("file")
    answer = await run_in_threadpool(_send, request, sent, upload)
    if answer.ok:
        return render(request, "street/imported.html", imported=answer.body)
    return _page(request, sent.form, sent.form_key, answer)


def _send(request: Request, sent: Sent, upload: Any) -> Answer:
    fields = {name: sent.form.get(name).strip() for name in FIELDS}
    fields["surveyed_on"] = iso_date(fields["surveyed_on"])  # typed as the form shows it: 2025年3月5日
    file = _file_of(upload)
    if file is None:
        problem = Problem(
            422, "survey.file.required", "请选择要上传的表格文件", (("file", "请选择要上传的表格文件"),)
        )
        return Answer(422, problem=problem)
    key = sent.form_key or new_form_key()
    try:
        return console_of(request).agencies.upload(
            SURVEY, "/imports/surveys", fields, file, user=sent.clerk.name, idempotency_key=key
        )
    except ServiceUnavailable as unavailable:
        message = f"{unavailable}；请稍后重新选择文件上传（不会重复导入）"
        return Answer(503, problem=Problem(503, "console.service_unavailable", message))


def _file_of(upload: Any) -> tuple[str, bytes, str] | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = upload.file.read(MAX_UPLOAD + 1)  # one byte over: the service says it is too large
    return upload.filename, content, upload.content_type or "application/octet-stream"


def _page(request: Request, form: FormValues, form_key: str, answer: Answer | None = None) -> Response:
    problem = answer.problem if answer is not None else None
    rows = _row_errors(problem) if problem is not None else []
    errors = {} if rows or problem is None else problem.by_field()
    return render_answer(
        request,
        "street/import.html",
        problem,
        form=form,
        form_key=form_key,
        errors=errors,
        rows=rows,
        report=problem.body if problem is not None else {},
    )


def _row_errors(problem: Problem) -> list[dict[str, Any]]:
    """Every error of a refused sheet, by row then column, as the spreadsheet numbers them."""
    entries = [
        entry for entry in problem.body.get("errors") or [] if isinstance(entry, dict) and "row" in entry
    ]
    return sorted(entries, key=lambda entry: (entry.get("row") or 0, str(entry.get("column") or "")))
