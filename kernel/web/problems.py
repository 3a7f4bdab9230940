"""Problem details (RFC 9457, ``application/problem+json``): the one error body every service answers.

Framework-free, so the ASGI idempotency middleware and FastAPI's handlers build the same body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from kernel.config import expected_codes, validation_text
from kernel.masking import mask_personal_data

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:rehab:problem:"

TITLES = {
    400: "请求有误",
    401: "未通过身份验证",
    403: "没有权限",
    404: "未找到",
    405: "不支持该请求方法",
    409: "与当前状态冲突",
    413: "请求内容过大",
    414: "请求地址过长",
    415: "不支持的内容类型",
    422: "未通过校验",
    431: "请求头过大",
    500: "服务内部错误",
    503: "服务暂时不可用",
}
"""A short Chinese title per status: the same for every occurrence of the status."""


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Iterable[Mapping[str, str]] = (),
    instance: str | None = None,
) -> dict[str, Any]:
    """The problem document: ``type`` and ``code`` for programs, ``title`` and ``detail`` for people.

    Identity and phone numbers quoted in a message are masked: an error body is logged, cached and
    shown on screens, so it must not carry a person's identifiers (the caller knows what they sent).
    """
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": TITLES.get(status, "请求失败"),
        "status": status,
        "detail": mask_personal_data(detail),
        "code": code,
        "errors": [{**error, "message": mask_personal_data(error.get("message", ""))} for error in errors],
    }
    if instance is not None:
        body["instance"] = mask_personal_data(instance)  # a path someone typed an ID number into
    return body


def field_error(field: str, code: str, message: str) -> dict[str, str]:
    """One entry of ``errors``: which field (dotted path), why (stable code) and a Chinese message."""
    return {"field": field, "code": code, "message": message}


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "guardian", "name")`` -> ``"guardian.name"``: where the field is, without the part of
    the request it came in (body, query, path, header)."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(str(part) for part in parts)


def validation_message(
    error_type: str, context: Mapping[str, Any], fallback: str, vocabularies: Vocabularies | None = None
) -> str:
    """A Chinese message for one pydantic error; pydantic's own (English) message when none fits.

    A closed vocabulary's codes are listed with their Chinese labels when ``vocabularies`` knows
    them: ``free（免费）、fixed_amount（定额补助）`` rather than pydantic's ``'free' or 'fixed_amount'``.
    """
    if error_type in ("enum", "literal_error") and isinstance(context.get("expected"), str):
        codes = expected_codes(context["expected"])
        labels = (vocabularies or Vocabularies()).labels(codes)
        return "应为以下之一：" + "、".join(
            f"{code}（{labels[code]}）" if code in labels else code for code in codes
        )
    return validation_text(error_type, context, fallback)


class Vocabularies:
    """The Chinese label of each code of the closed vocabularies an API documents.

    Read from the API's own JSON Schema: a vocabulary's description names each code with its label
    (``补贴方式: free 免费, fixed_amount 定额补助.``, from the enum's docstring or the field's
    description), so the kernel knows no service's codes and a new vocabulary needs no registration.
    """

    def __init__(self, labels_by_codes: Mapping[frozenset[str], Mapping[str, str]] | None = None) -> None:
        self._labels = dict(labels_by_codes or {})

    @classmethod
    def of_schema(cls, document: Any) -> Vocabularies:
        """Every ``enum`` with a ``description`` anywhere in a JSON Schema (or OpenAPI) document."""
        found: dict[frozenset[str], dict[str, str]] = {}
        for codes, description in _described_enums(document):
            labels = labels_in_description(codes, description)
            if labels:
                found.setdefault(frozenset(codes), {}).update(labels)
        return cls(found)

    def labels(self, codes: Iterable[str]) -> Mapping[str, str]:
        """The labels of the vocabulary that has exactly these codes; empty when none is known."""
        return self._labels.get(frozenset(codes), {})


def labels_in_description(codes: Iterable[str], description: str) -> dict[str, str]:
    """``free 免费, fixed_amount 定额补助`` -> {free: 免费, fixed_amount: 定额补助}: each code followed by
    a word in Chinese; a code the description does not name so is left out."""
    labels = {}
    for code in codes:
        match = re.search(rf"(?<![\w-]){re.escape(code)}\s+([^\s,，.。;；:：()（）=]+)", description)
        if match and _HAN.search(match.group(1)):
            labels[code] = match.group(1)
    return labels


_HAN = re.compile(r"[\u3400-\u9fff]")


def _described_enums(node: Any) -> Iterable[tuple[list[str], str]]:
    if isinstance(node, Mapping):
        values = node.get("enum")
        description = node.get("description")
        if isinstance(values, list) and isinstance(description, str):
            yield [str(value) for value in values], description
        for child in node.values():
            yield from _described_enums(child)
    elif isinstance(node, list):
        for child in node:
            yield from _described_enums(child)


async def send_json(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    status: int,
    content: Mapping[str, Any],
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer from ASGI middleware, before any route: JSON (problem+json from 400 on), with its length."""
    body = json.dumps(content, ensure_ascii=False).encode()
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
