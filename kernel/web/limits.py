"""A ceiling on request bodies: 413 problem+json before an oversized body is read into memory."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.web.asgi import header
from kernel.web.problems import problem_body, send_json

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_UPLOAD_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Any JSON command of these APIs fits in a few kilobytes; one MiB leaves room and stops abuse."""
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024
"""multipart/form-data uploads (the survey sheet import, which checks its own 10 MB limit)."""


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


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    detail = f"请求内容超过 {_size(limit)} 的上限，请精简后重试（文件请分批上传）"
    body = problem_body(413, "http.payload_too_large", detail, instance=scope.get("path"))
    # The client may still be sending: tell it the connection will not read the rest.
    await send_json(send, 413, body, extra=[(b"connection", b"close")])


def _size(limit: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} 字节"
