"""Characters no form needs are refused (422 problem+json naming the field) before a request reaches a
route: a NUL 空字符 in the path, a query parameter or a JSON body (PostgreSQL text cannot store it, so it
would fail late as a 500); and in every text of a command's JSON body, control characters, bidi
overrides and invisible characters (issue 14, defect 10: ``"康美\\x01社区"`` was stored, and 附件3 of
that street then failed for everyone), and the replacement character U+FFFD, which stands where a
decoder lost the characters that were sent. ``hidden_characters`` is the one rule, also applied by
services to text that does not come as JSON (an uploaded sheet's cells, a form's fields)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.web.asgi import header, read_body
from kernel.web.problems import field_error, problem_body, send_json

__all__ = [
    "TextGuard",
    "hidden_characters",
    "hidden_characters_code",
    "hidden_characters_message",
    "nul_field",
]

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A \\u0000 escape in JSON text (its backslash not itself escaped), or a raw NUL byte."""

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Control characters (C0 including tab and newline, DEL, C1), format characters (bidi embeddings,
overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width characters U+200B-U+200F, the byte
order mark U+FEFF, soft hyphen...), line and paragraph separators, lone surrogates. Private-use
characters (Co) are kept: rare characters of names are written with them."""

REPLACEMENT_CHARACTER = "\ufffd"
"""What a decoder writes for bytes it could not read (a form posted as raw %FF%FE, a sheet saved in
another encoding): printable, but the characters typed are lost, so a name holding it is not the name."""
REPLACEMENT_BYTES = REPLACEMENT_CHARACTER.encode()
LOST = f"U+{ord(REPLACEMENT_CHARACTER):04X}"

_MAYBE_HIDDEN = re.compile(rb"[\x00-\x1f\x7f-\xff]|\\u")
"""Bytes of a JSON body that may spell a hidden character (a control byte, any UTF-8 beyond ASCII, a
``\\u`` escape); a body of plain ASCII text is passed on without being decoded."""

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH"})


def hidden_characters(text: str) -> list[str]:
    """The control, format and separator characters of ``text`` and the replacement character U+FFFD, as
    code points (``U+202E``), once each."""
    if text.isprintable() and REPLACEMENT_CHARACTER not in text:  # most texts are decided in C
        return []
    found = (
        char
        for char in text
        if char == REPLACEMENT_CHARACTER or unicodedata.category(char) in _HIDDEN_CATEGORIES
    )
    return list(dict.fromkeys(f"U+{ord(char):04X}" for char in found))


def hidden_characters_message(label: str, characters: list[str]) -> str:
    """The Chinese reason of a refusal: which field, which characters, what to do."""
    if characters == [LOST]:
        return (
            f"“{_visible(label)}”含有替换字符（U+FFFD）：原来的字符在编码转换中已丢失，"
            "请重新输入原文（常见于编码不对的文件或表单）"
        )
    shown = "、".join(characters[:5])
    return (
        f"“{_visible(label)}”含有控制字符或不可见字符（{shown}），请删除后重试（常见于从其他文档复制的文字）"
    )


def hidden_characters_code(characters: list[str]) -> str:
    """The code (after ``request.``) of a refusal: ``replacement_character`` for U+FFFD alone."""
    return "replacement_character" if characters == [LOST] else "control_character"


def _visible(text: str) -> str:
    """``text`` with its hidden characters written as escapes, so a message shows where they are."""
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) in _HIDDEN_CATEGORIES else char for char in text
    )


class TextGuard:
    """ASGI middleware: 422 for a NUL character in the path, a query parameter or a JSON body, and for a
    hidden character in any string of a command's JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = nul_field(scope["path"], scope.get("query_string", b""))
        hidden: tuple[str, list[str]] | None = None
        if field is None and _is_json(scope):
            body, receive = await _buffered(receive)
            field = _nul_in_body(body) if b"\x00" in body or _JSON_NUL.search(body) else None
            if field is None and scope.get("method") in COMMAND_METHODS and _MAYBE_HIDDEN.search(body):
                hidden = _hidden_field(body)
        if field is not None:
            await _refuse(scope, send, field)
            return
        if hidden is not None:
            await _refuse_hidden(scope, send, *hidden)
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


def _nul_in_body(body: bytes) -> str:
    """The field of a JSON body holding a NUL character (a raw one too); ``body`` when the body is not
    JSON or the NUL is outside any text."""
    try:
        document = json.loads(body, strict=False)  # strict=False: a raw control character in a string
    except (ValueError, RecursionError):
        return "body"
    for path, text in _texts(document, ()):
        if "\x00" in text:
            return _visible(".".join(str(part) for part in path)) or "body"
    return "body"


def _hidden_field(body: bytes) -> tuple[str, list[str]] | None:
    """The first field of a JSON body whose text (or name) holds hidden characters, with them; None if
    none does or the body is not JSON (the route's validation then says so)."""
    if b"\\" not in body and REPLACEMENT_BYTES not in body and _printable(body):  # as printable as the text
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for path, text in _texts(document, ()):
        if characters := hidden_characters(text):
            return _visible(".".join(str(part) for part in path)) or "body", characters
    return None


def _printable(body: bytes) -> bool:
    try:
        return body.decode().isprintable()  # in C, without decoding the JSON document
    except UnicodeDecodeError:
        return False


def _texts(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, text) of every string of a decoded JSON document, names of members included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield (*path, name), name
            yield from _texts(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))


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
    named = "请求内容" if field == "body" else f"“{field}”"
    message = f"{named}含有空字符（\\u0000），请删除后重试"
    error = field_error(field, "request.nul_character", message)
    body = problem_body(422, "request.invalid", message, errors=[error], instance=scope.get("path"))
    await send_json(send, 422, body)


async def _refuse_hidden(scope: Scope, send: Send, field: str, characters: list[str]) -> None:
    message = hidden_characters_message(field, characters)
    error = field_error(field, f"request.{hidden_characters_code(characters)}", message)
    body = problem_body(422, "request.invalid", message, errors=[error], instance=scope.get("path"))
    await send_json(send, 422, body)
