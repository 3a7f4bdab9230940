"""Forgetting a person 删除个人信息: who is offered the button, and the retyped confirmation.

Both are presentation, not rules: the survey service alone decides who may forget whom (role 负责人,
the person in the clerk's street; docs/adr/0007-personal-data-encryption.md). The console only hides
the button from clerks who could not use it and asks for the ID number again before anything is sent,
so that a slip of the mouse cannot destroy a person's data key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.agencies import Problem
from console.labels import ROLE_LABELS
from console.web import Clerk
from kernel.access.auth import Role

__all__ = ["CONFIRMATION_FIELD", "in_chinese", "matches", "mismatch", "offered"]

CONFIRMATION_FIELD = "confirmation"
ROLE_REQUIRED = "access.role_required"


def offered(clerk: Clerk, person: Mapping[str, Any] | None) -> bool:
    """Show 删除个人信息 to a street office's 负责人 who can read the person, not yet forgotten."""
    return (
        clerk.agency == "survey"
        and Role.RESPONSIBLE in clerk.user.roles
        and person is not None
        and not person.get("forgotten")
    )


def matches(typed: str, person: Mapping[str, Any]) -> bool:
    """The retyped 身份证号 is the person's (spaces and the case of a final X aside)."""
    recorded = str(person.get("id_number") or "")
    return bool(recorded) and _plain(typed) == _plain(recorded)


def mismatch(typed: str) -> Problem:
    """The console's own refusal of a confirmation that does not match: nothing was sent."""
    message = "输入的身份证号与此人档案不一致，未执行删除"
    if not typed.strip():
        message = "请输入此人的身份证号以确认删除"
    return Problem(422, "console.forget.confirmation", message, ((CONFIRMATION_FIELD, message),))


def in_chinese(problem: Problem) -> Problem:
    """The service's refusal as the clerk reads it: a missing role named in Chinese (负责人)."""
    if problem.code != ROLE_REQUIRED:
        return problem
    detail = problem.detail
    for role, label in ROLE_LABELS.items():
        detail = detail.replace(str(role), label)
    message = f"只有本街道的负责人可以删除个人信息，服务已拒绝（{detail}）"
    return Problem(problem.status, problem.code, message, problem.errors, problem.body)


def _plain(text: str) -> str:
    return "".join(text.split()).upper()
