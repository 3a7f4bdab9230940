"""The base of every ``REHAB_*`` settings object, at the bottom of the kernel so every layer may read
its settings: read from the environment by pydantic-settings, a wrong value refused naming the
variable the operator set, in Chinese.

pydantic's own error names the field (``max_records``) in English; an operator set
``REHAB_MAX_RECORDS``, so :class:`SettingsInvalid` says ``环境变量 REHAB_MAX_RECORDS='abc' 无效：应为整数``.
It imports no other kernel module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "REHAB_"


class SettingsInvalid(ValueError):
    """A ``REHAB_*`` variable (or a value given in code) that its settings object refuses."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("设置有误（invalid settings）：" + "；".join(problems))
        self.problems = problems


class RehabSettings(BaseSettings):
    """Settings read from ``REHAB_<FIELD>`` variables; an empty variable counts as unset."""

    model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", env_ignore_empty=True
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as invalid:
            raise SettingsInvalid(
                [_problem(type(self), error, values) for error in invalid.errors()]
            ) from None


def variable_of(settings: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from: ``console_port`` -> ``REHAB_CONSOLE_PORT``."""
    prefix = settings.model_config.get("env_prefix") or ""
    return f"{prefix}{field}".upper()


def _problem(settings: type[BaseSettings], error: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    location = error.get("loc") or ("",)
    field = str(location[0])
    reason = validation_text(str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", "")))
    if field in given:  # passed in code (a command-line option, a test), not read from the environment
        return f"{field}={given[field]!r} 无效：{reason}"
    variable = variable_of(settings, field)
    if variable in os.environ:
        return f"环境变量 {variable}={os.environ[variable]!r} 无效：{reason}"
    return f"缺少环境变量 {variable}：{reason}"


def validation_text(error_type: str, context: Mapping[str, Any], fallback: str) -> str:
    """A Chinese message for one pydantic error; pydantic's own (English) message when none fits.

    A closed vocabulary's codes are listed as they are; ``kernel.web.problems.validation_message``
    adds their Chinese labels where an API documents them.
    """
    if error_type in ("enum", "literal_error") and isinstance(context.get("expected"), str):
        return "应为以下之一：" + "、".join(expected_codes(context["expected"]))
    template = VALIDATION_MESSAGES.get(error_type)
    if template is None:
        if error_type == "value_error" and "error" in context:
            return str(context["error"])  # a schema's own validator: its text is the message
        return fallback
    try:
        return template.format(**{key: _shown(value) for key, value in context.items()})
    except (KeyError, IndexError, ValueError):
        return fallback


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("'", "")
    return value


def expected_codes(expected: str) -> list[str]:
    """The codes pydantic lists in an enum or literal error: ``'a', 'b' or 'c'`` -> a, b, c."""
    return re.findall(r"'([^']*)'", expected) or [expected]


VALIDATION_MESSAGES = {
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
