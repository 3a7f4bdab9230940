"""The OpenAPI document as the services really answer: bearer tokens, and problem+json for every error.

FastAPI documents 422 with its own ``{"detail": [...]}`` body and nothing else; every service actually
answers problem+json (docs/adr/0005-problem-json-errors.md) with 401/403 from access control, 404, 409,
413, 422 and 503 from the kernel. This module rewrites the generated document once, when first read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from kernel.web.problems import PROBLEM_MEDIA_TYPE, TITLES, TYPE_PREFIX

BEARER = "bearerAuth"
PROBLEM_REF = "#/components/schemas/Problem"
COMMAND_METHODS = frozenset({"post", "put", "patch", "delete"})
OPEN_OPERATIONS = frozenset({"/health"})
"""Paths access control lets through without a token."""

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details, the one error body of every service (ADR 0005). Programs "
    "match on `code` (stable); `detail` and each `errors[].message` are Chinese sentences for people.",
    "required": ["type", "title", "status", "detail", "code", "errors"],
    "properties": {
        "type": {
            "type": "string",
            "description": f"`{TYPE_PREFIX}` + code.",
            "examples": [TYPE_PREFIX + "request.invalid"],
        },
        "title": {
            "type": "string",
            "description": "Short Chinese title of the status.",
            "examples": ["未通过校验"],
        },
        "status": {"type": "integer", "description": "The HTTP status.", "examples": [422]},
        "detail": {
            "type": "string",
            "description": "One Chinese sentence for the user (identity and phone numbers masked).",
            "examples": ["请求有 1 处需要更正：limit：应不大于 500"],
        },
        "code": {
            "type": "string",
            "description": "Stable dotted code, `<service>.<field or subject>.<reason>` or a kernel code "
            "(`request.invalid`, `http.not_found`, `access.unauthenticated`, `concurrency.conflict`, ...).",
            "examples": ["request.invalid"],
        },
        "instance": {"type": "string", "description": "The request's path.", "examples": ["/applications"]},
        "errors": {
            "type": "array",
            "description": "One entry per field at fault; empty when no field is (404, 409, 500).",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
        },
    },
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemFieldError",
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {
            "type": "string",
            "description": "Dotted path of the field, e.g. `guardian.id_number`, `items.0.amount_fen`, or a "
            "query parameter's name.",
            "examples": ["limit"],
        },
        "code": {
            "type": "string",
            "description": "Stable code of the reason: the domain's, or `request.<pydantic error type>` "
            "(`request.unknown_query` for a query parameter the route does not take, "
            "`request.repeated_query` for one that holds a single value given more than once, "
            "`request.date_format` for a date not written YYYY-MM-DD).",
            "examples": ["request.less_than_equal"],
        },
        "message": {"type": "string", "description": "Chinese message.", "examples": ["应不大于 500"]},
    },
}

ERROR_RESPONSES: dict[str, tuple[int, str, str, str]] = {
    "Unauthorized": (
        401,
        "access.unauthenticated",
        "No valid bearer token (sent with a `WWW-Authenticate: Bearer` header).",
        "未通过身份验证：请求缺少 Authorization: Bearer <token>（用 rehab token 签发）",
    ),
    "Forbidden": (
        403,
        "access.wrong_agency",
        "The token's agency, role or scope does not allow this (`access.*`).",
        "survey 的用户不能使用 approval 服务",
    ),
    "NotFound": (404, "http.not_found", "No such resource (or path).", "没有这个地址，请检查路径"),
    "Conflict": (
        409,
        "concurrency.conflict",
        "Not in a state that allows it, changed concurrently, or the Idempotency-Key is in use or was "
        "used for another request (`idempotency.*`).",
        "该记录刚被另一个请求修改，请重新提交",
    ),
    "PayloadTooLarge": (413, "http.payload_too_large", "The request body is too large.", "请求内容过大"),
    "Invalid": (
        422,
        "request.invalid",
        "A field, parameter or rule refused the request; `errors` names each field at fault.",
        "请求有 1 处需要更正：stauts：不认识的查询参数，请删除或检查拼写",
    ),
    "Unavailable": (
        503,
        "store.busy",
        "Nothing was recorded (`store.busy`: the database stayed locked; `store.not_recorded`): send the "
        "command again with the same Idempotency-Key.",
        "数据库正被其他进程占用（等待超过 5 秒），本次命令未保存，请稍后重新提交",
    ),
    "InternalError": (500, "internal", "A crash; the trace is in the log only.", "服务内部错误，已记录日志"),
}
"""Component name -> (status, example code, when, example detail)."""

RESPONSE_OF_STATUS = {str(status): name for name, (status, *_rest) in ERROR_RESPONSES.items()}


def install_openapi(app: FastAPI, *, bearer_required: bool) -> None:
    """Rewrite ``app``'s OpenAPI document on first read; ``bearer_required``: access control is on."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_truthful", False):
            app.openapi_schema = truthful_openapi(generate(), bearer_required=bearer_required)
            app.state.openapi_truthful = True
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def truthful_openapi(document: dict[str, Any], *, bearer_required: bool) -> dict[str, Any]:
    """``document`` with the security scheme, the problem schemas and each operation's error answers."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rehab token",
        "description": "A short-lived token of this agency (or an auditor): `rehab token NAME`. Required "
        "when the service runs with access control (REHAB_ACCESS_DIR; always in production).",
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemFieldError"] = FIELD_ERROR_SCHEMA
    components["responses"] = {
        name: _problem_response(status, code, when, detail)
        for name, (status, code, when, detail) in ERROR_RESPONSES.items()
    }
    if bearer_required:
        document["security"] = [{BEARER: []}]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _document_errors(path, method, operation, bearer_required=bearer_required)
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def error_statuses(path: str, method: str, operation: dict[str, Any], *, bearer_required: bool) -> list[str]:
    """The error statuses an operation can answer, from what the kernel does with every route."""
    statuses = ["422", "500"]
    open_path = path in OPEN_OPERATIONS
    if bearer_required and not open_path:
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")
    if method in COMMAND_METHODS:
        statuses += ["409", "503"]
    if "requestBody" in operation:
        statuses.append("413")
    return sorted(statuses)


def _document_errors(path: str, method: str, operation: dict[str, Any], *, bearer_required: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if bearer_required and path in OPEN_OPERATIONS:
        operation["security"] = []
    for status in error_statuses(path, method, operation, bearer_required=bearer_required):
        responses.setdefault(status, {"$ref": f"#/components/responses/{RESPONSE_OF_STATUS[status]}"})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and "$ref" not in response:
            # A route's own description ("No such application") stays; the body is problem+json.
            if status == "422" and response.get("description") == "Validation Error":
                responses[status] = {"$ref": "#/components/responses/Invalid"}
                continue
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _problem_response(status: int, code: str, when: str, detail: str) -> dict[str, Any]:
    example = {
        "type": TYPE_PREFIX + code,
        "title": TITLES.get(status, "请求失败"),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [],
    }
    return {
        "description": when,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}, "example": example}},
    }
