"""The base of every ``REHAB_*`` settings object: read from the environment by pydantic-settings, and a
wrong value refused naming the variable the operator set, in Chinese.

pydantic's own error names the field (``console_port``) in English; an operator set
``REHAB_CONSOLE_PORT``, so :class:`SettingsInvalid` says ``环境变量 REHAB_CONSOLE_PORT=abc 无效：应为整数``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.web.problems import validation_message

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
    reason = validation_message(str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", "")))
    if field in given:  # passed in code (a command-line option, a test), not read from the environment
        return f"{field}={given[field]!r} 无效：{reason}"
    variable = variable_of(settings, field)
    if variable in os.environ:
        return f"环境变量 {variable}={os.environ[variable]!r} 无效：{reason}"
    return f"缺少环境变量 {variable}：{reason}"
