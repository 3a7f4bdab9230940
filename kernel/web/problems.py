"""Problem details (RFC 9457, ``application/problem+json``): the one error body every service answers.

Framework-free, so the ASGI idempotency middleware and FastAPI's handlers build the same body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from kernel.masking import mask_personal_data

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:rehab:problem:"

TITLES = {
    400: "请求有误",
    404: "未找到",
    405: "不支持该请求方法",
    409: "与当前状态冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "未通过校验",
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
        body["instance"] = instance
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
    template = _VALIDATION_MESSAGES.get(error_type)
    if template is None:
        return _custom_message(error_type, context, fallback)
    try:
        return template.format(**{key: _shown(value) for key, value in context.items()})
    except (KeyError, IndexError, ValueError):
        return fallback


def _custom_message(error_type: str, context: Mapping[str, Any], fallback: str) -> str:
    if error_type == "value_error" and "error" in context:
        return str(context["error"])  # a schema's own validator: its text is the message
    return fallback


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("'", "")
    return value


def expected_codes(expected: str) -> list[str]:
    """The codes pydantic lists in an enum or literal error: ``'a', 'b' or 'c'`` -> a, b, c."""
    return re.findall(r"'([^']*)'", expected) or [expected]


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


_VALIDATION_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段，请删除",
    "json_invalid": "请求内容不是有效的 JSON",
    "json_type": "请求内容应为 JSON",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "frozen_set_type": "应为列表",
    "string_type": "应为文字",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "应为有效的文字",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能有小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "date_type": "应为日期，如 2024-10-15",
    "date_parsing": "应为日期，如 2024-10-15",
    "date_from_datetime_parsing": "应为日期，如 2024-10-15",
    "date_from_datetime_inexact": "应为日期，不带时间",
    "datetime_type": "应为带时区的时间，如 2024-10-15T09:30:00+08:00",
    "datetime_parsing": "应为带时区的时间，如 2024-10-15T09:30:00+08:00",
    "datetime_from_date_parsing": "应为带时区的时间，如 2024-10-15T09:30:00+08:00",
    "timezone_aware": "时间应带时区，如 +08:00",
    "uuid_type": "应为 UUID 编号",
    "uuid_parsing": "应为 UUID 编号",
    "url_parsing": "应为网址",
    "bytes_type": "应为文件内容",
}
"""Chinese messages for the pydantic error types a request can hit; ``{ctx}`` keys come from pydantic."""


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
