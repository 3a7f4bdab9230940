"""Ceilings on a request: 413 problem+json before an oversized body is read into memory, 414 for an address
(path and query string) and 431 for headers longer than any this API needs."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.web.asgi import header
from kernel.web.problems import problem_body, send_json

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_TARGET_BYTES",
    "BodyLimit",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Any JSON command of these APIs fits in a few kilobytes; one MiB leaves room and stops abuse."""
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024
"""multipart/form-data uploads (the survey sheet import, which checks its own 10 MB limit)."""
MAX_TARGET_BYTES = 8 * 1024
"""Path and query string: a query parameter holds at most 100 characters (kernel.http) and batches of ids
go in a POST's body (QUERY_BY_POST), so 8 KiB (nginx's default line) is far above any real address.
uvicorn's own parser (httptools) refuses a request line past 64 KiB with a bare 400 before the app."""
MAX_HEADER_BYTES = 32 * 1024
"""Every header's name and value: a token, a purpose and an Idempotency-Key are a few KiB at most."""


class BodyTooLarge(HTTPException):
    """Raised inside receive() when the streamed body passes the limit: FastAPI answers it as 413."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimit:
    """ASGI middleware: a declared Content-Length over the limit is refused unread; a body streamed
    without one (chunked) is cut off as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if refused := _head_too_large(scope):
            await send_json(send, refused["status"], refused)
            return
        limit = self._limit(scope)
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(scope, send, limit)

    def _limit(self, scope: Scope) -> int:
        content_type = header(scope, b"content-type") or ""
        if content_type.lower().startswith("multipart/form-data"):
            return self.max_upload_bytes
        return self.max_body_bytes


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return counted


def _head_too_large(scope: Scope) -> dict[str, Any] | None:
    """414 for an address, 431 for headers over their ceiling; None for a request within both."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
    if target > MAX_TARGET_BYTES:
        detail = (
            f"请求地址（路径和查询参数）超过 {_size(MAX_TARGET_BYTES)} 的上限（这里 {_size(target)}）："
            "请减少查询条件（成批的编号请放在请求内容中提交）"
        )
        return problem_body(414, "http.uri_too_long", detail, instance=_short(scope["path"]))
    headers = sum(len(name) + len(value) for name, value in scope.get("headers", []))
    if headers > MAX_HEADER_BYTES:
        detail = f"请求头超过 {_size(MAX_HEADER_BYTES)} 的上限（这里 {_size(headers)}），请删去不需要的请求头"
        code = "http.request_header_fields_too_large"
        return problem_body(431, code, detail, instance=_short(scope["path"]))
    return None


def _short(path: str) -> str:
    """The path as ``instance``, cut to a readable length (a refused path may be very long)."""
    return path if len(path) <= 200 else path[:200] + "…"


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    detail = f"请求内容超过 {_size(limit)} 的上限，请精简后重试（文件请分批上传）"
    body = problem_body(413, "http.payload_too_large", detail, instance=scope.get("path"))
    # The client may still be sending: tell it the connection will not read the rest.
    await send_json(send, 413, body, extra=[(b"connection", b"close")])


def _size(limit: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit % size == 0:
            return f"{limit // size} {unit}"
    if limit > 10 * 1024:
        return f"约 {round(limit / 1024)} KiB"
    return f"{limit} 字节"
