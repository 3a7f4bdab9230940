"""Free text that travels in clear: a command's words that its event carries to every agency.

Events are read by every agency, archived for good and are not sealed with the person's key (only the
identifying details are: ADR 0007), so what a clerk types into a reason, an opinion or a
staff field must not hold an ID, certificate or mobile phone number: once forgotten, the person would still
be named there. Each service's command schemas type such fields with these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from kernel.masking import names_personal_data

__all__ = ["ClearLongText", "ClearText", "refuse_personal_data"]

PERSONAL_DATA_IN_CLEAR = "personal_data_in_clear_text"
"""The error type (and, prefixed, the problem's code) of free text holding an ID or phone number."""


def refuse_personal_data(text: str) -> str:
    """The text as given; a validation error when it holds an ID, certificate or mobile phone number."""
    if names_personal_data(text):
        raise PydanticCustomError(
            PERSONAL_DATA_IN_CLEAR,
            "此栏会随事件发给各机构且不加密，不得写入身份证号、残疾人证号或手机号（请只写事由，"
            "例如「身份证号录入错误」）",
        )
    return text


ClearText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_personal_data),
]
"""One line of free text (at most 200 characters) with no ID, certificate or phone number in it."""

ClearLongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(refuse_personal_data),
]
"""An opinion or a reason (at most 2,000 characters) with no ID, certificate or phone number in it."""
