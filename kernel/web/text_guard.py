"""NUL characters 空字符 are refused (422 problem+json naming the field) in a request's path, query and
JSON body: no form needs one, and PostgreSQL text cannot store it, so it would fail late as a 500."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.web.asgi import header, read_body
from kernel.web.problems import field_error, problem_body, send_json

__all__ = ["NulGuard", "nul_field"]

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A \\u0000 escape in JSON text (its backslash not itself escaped), or a raw NUL byte."""


class NulGuard:
    """ASGI middleware: 422 for a NUL character in the path, a query parameter or a JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = nul_field(scope["path"], scope.get("query_string", b""))
        if field is None and _is_json(scope):
            body, receive = await _buffered(receive)
            field = "body" if b"\x00" in body or _JSON_NUL.search(body) else None
        if field is not None:
            await _refuse(scope, send, field)
            return
        await self.app(scope, receive, send)


def nul_field(path: str, query_string: bytes) -> str | None:
    """The field that holds a NUL character: ``path``, a query parameter's name; None when none does."""
    if "\x00" in path:
        return "path"
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


def _is_json(scope: Scope) -> bool:
    media = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (the body limit outside this middleware bounds it), and a receive replaying it."""
    body = await read_body(receive)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if body is None:  # the client went away before sending all of it: the app hears so
            return {"type": "http.disconnect"}
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body or b"", replay


async def _refuse(scope: Scope, send: Send, field: str) -> None:
    message = f"“{field}”含有空字符（\\u0000），请删除后重试"
    error = field_error(field, "request.nul_character", message)
    body = problem_body(422, "request.invalid", message, errors=[error], instance=scope.get("path"))
    await send_json(send, 422, body)
