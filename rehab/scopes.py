"""A user's scope checked against the deployment's jurisdiction (kernel/reference), before it is granted.

A mistyped street (``street:鸳阳``) once made a user who could see nothing and was told nothing.
Communities are not in the reference data: a community scope is checked by its street.
"""

from __future__ import annotations

from kernel.access.auth import Scope
from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction
from rehab.cli_failures import CommandFailed, ExitCode


def jurisdiction_scope(text: str, jurisdiction: Jurisdiction | None = None) -> Scope:
    """The scope ``text`` names, if it is the district or a street, community or institution of the
    jurisdiction (default: the deployment's, ``REHAB_REFERENCE``); else exit 2 saying what exists."""
    try:
        scope = Scope.parse(text)
    except ValueError as wrong:
        raise CommandFailed(
            f"范围（scope）{text!r} 写法不对：应为 district（全区）、street:<街道>、community:<街道>/<社区>"
            "或 institution:<机构编号>",
            ExitCode.USAGE,
        ) from wrong
    where = jurisdiction or load_jurisdiction(deployment_reference())
    if problem := _unknown_in(scope, where):
        raise CommandFailed(problem, ExitCode.USAGE)
    return scope


def _unknown_in(scope: Scope, where: Jurisdiction) -> str | None:
    streets = "、".join(where.streets)
    if scope.kind == "street" and scope.value not in where.streets:
        return f"{scope.value} 不是{where.name}的街道，可选：{streets}"
    if scope.kind == "community":
        street, _, community = scope.value.partition("/")
        if street not in where.streets:
            return f"社区范围 {scope.value}：{street} 不是{where.name}的街道，可选：{streets}"
        if not community.strip():
            return f"社区范围应写成 community:<街道>/<社区>，如 community:{where.streets[0]}/第一社区"
    if scope.kind == "institution" and not (
        where.service_institution(scope.value) or where.assessment_institution(scope.value)
    ):
        ids = [i.id for i in where.assessment_institutions] + [i.id for i in where.service_institutions]
        known = "、".join(ids)
        return f"{scope.value} 不是{where.name}的定点机构，可选：{known}"
    return None
