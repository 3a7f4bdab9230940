"""Errors a command can end in, and how every service answers them: ``application/problem+json``
(RFC 9457, see docs/adr/0005-problem-json-errors.md), never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.domain.rejections import CommandRejected, NotFound, RulesRejected, StateConflict
from kernel.store.store import ConcurrencyConflict
from kernel.web.methods import allowed_methods
from kernel.web.problems import (
    PROBLEM_MEDIA_TYPE,
    Vocabularies,
    field_error,
    field_path,
    problem_body,
    validation_message,
)
from kernel.web.request_dates import body_date_errors

__all__ = ["CommandRejected", "NotFound", "StateConflict", "install_error_handlers", "problem"]

log = logging.getLogger(__name__)

HTTP_PROBLEMS = {
    400: ("http.bad_request", "请求有误"),
    404: ("http.not_found", "没有这个地址，请检查路径"),
    405: ("http.method_not_allowed", "此地址不支持该请求方法"),
    413: ("http.payload_too_large", "请求内容过大"),
    415: ("http.unsupported_media_type", "不支持该内容类型"),
}
"""Errors raised by routing itself (unknown path, wrong method): a code and a Chinese detail."""
UNPARSABLE_BODY = "There was an error parsing the body"
"""FastAPI's 400 for a body it cannot decode (not UTF-8): answered as the 422 of malformed JSON, which the
OpenAPI documents (issue 14: the fuzzer met an undocumented 400)."""


def problem(
    status_code: int,
    message: str,
    *,
    field: str | None,
    code: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response naming one field (or none) and the reason."""
    errors = [field_error(field, code, message)] if field else []
    return _respond(problem_body(status_code, code, message, errors=errors, instance=instance), headers)


def _respond(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=body["status"], content=body, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def validation_problem(
    error: RequestValidationError, instance: str | None = None, vocabularies: Vocabularies | None = None
) -> dict[str, Any]:
    """One entry per field pydantic refused, each with a Chinese message (a vocabulary's codes with
    their labels when ``vocabularies`` knows them)."""
    errors = []
    for item in error.errors():
        kind = str(item.get("type", "invalid"))
        if kind == "json_invalid":  # FastAPI's location is ("body", <character position>)
            errors.append(field_error("body", "request.json_invalid", _json_invalid(item.get("loc", ()))))
            continue
        field = field_path(item.get("loc", ())) or "body"
        message = validation_message(kind, item.get("ctx") or {}, str(item.get("msg", "")), vocabularies)
        errors.append(field_error(field, f"request.{kind}", message))
    summary = "；".join(_said(entry) for entry in errors[:5])
    detail = f"请求有 {len(errors)} 处需要更正：{summary}"
    return problem_body(422, "request.invalid", detail, errors=errors, instance=instance)


def _json_invalid(location: Sequence[object]) -> str:
    """Where a body stops being JSON, said in the message: the field is the body as a whole."""
    position = location[-1] if location else None
    if not isinstance(position, int) or position <= 0:
        return "请求内容不是有效的 JSON：开头即无法解析"
    return f"请求内容不是有效的 JSON：前 {position} 个字符之后无法解析"


def _said(entry: Mapping[str, str]) -> str:
    """One error of the summary: ``field：message``, or the message alone for the request as a whole."""
    return entry["message"] if entry["field"] == "body" else f"{entry['field']}：{entry['message']}"


def vocabularies_of(app: FastAPI) -> Vocabularies:
    """The labels of the codes the app's API documents, read once from its OpenAPI document."""
    known: Vocabularies | None = getattr(app.state, "vocabularies", None)
    if known is None:
        try:
            known = Vocabularies.of_schema(app.openapi())
        except Exception:  # an API that cannot describe itself still answers, with the bare codes
            log.exception("no vocabulary labels: the OpenAPI document could not be built")
            known = Vocabularies()
        app.state.vocabularies = known
    return known


def _unparsable_body(instance: str) -> dict[str, Any]:
    message = "请求内容不是有效的 JSON（须为 UTF-8 编码）"
    errors = [field_error("body", "request.json_invalid", message)]
    detail = f"请求有 1 处需要更正：{message}"
    return problem_body(422, "request.invalid", detail, errors=errors, instance=instance)


def install_error_handlers(app: FastAPI) -> None:
    """Every error a service can answer becomes problem+json, including routing errors and crashes."""

    @app.exception_handler(CommandRejected)
    async def on_rejected(request: Request, error: CommandRejected) -> JSONResponse:
        if isinstance(error, RulesRejected):
            errors = [
                field_error(each.field, each.code, each.message)
                for each in error.rejections
                if each.field is not None
            ]
            body = problem_body(422, error.code, error.message, errors=errors, instance=request.url.path)
            return _respond(body)
        return problem(
            error.status_code, error.message, field=error.field, code=error.code, instance=request.url.path
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        loose = getattr(request.state, "loose_dates", None)  # dates of the body not written YYYY-MM-DD
        if loose:
            error = RequestValidationError(body_date_errors(error.errors(), loose))
        return _respond(validation_problem(error, request.url.path, vocabularies_of(request.app)))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == UNPARSABLE_BODY:  # bytes that are not UTF-8
            return _respond(_unparsable_body(request.url.path))
        code, message = HTTP_PROBLEMS.get(error.status_code, (f"http.{error.status_code}", "请求失败"))
        headers = error.headers
        if error.status_code == 405:  # the router names the first route's methods: say every one
            allowed = allowed_methods(request.app.router.routes, request.scope)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            message = f"此地址不支持该请求方法，可用的方法：{'、'.join(allowed)}"
        body = problem_body(error.status_code, code, message, instance=request.url.path)
        return _respond(body, headers)

    @app.exception_handler(ConcurrencyConflict)
    async def on_conflict(request: Request, error: ConcurrencyConflict) -> JSONResponse:
        message = "该记录刚被另一个请求修改，请重新提交"
        return problem(409, message, field=None, code="concurrency.conflict", instance=request.url.path)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        message = "服务内部错误，已记录日志；请稍后重试或联系管理员"
        return problem(500, message, field=None, code="internal", instance=request.url.path)
