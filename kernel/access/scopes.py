"""Where a caller's authority ends, as the services' APIs check it: street 街道, community 社区,
institution, district. Every helper takes the caller (None when access control is off: no limit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kernel.access.access import Forbidden
from kernel.access.auth import Principal, Role

__all__ = [
    "Territory",
    "area_of",
    "require_area",
    "require_district",
    "require_institution",
    "require_signatory",
    "visible_area",
    "visible_institution",
]


@dataclass(frozen=True)
class Territory:
    """The street (and community) a list is limited to; None: not limited."""

    street: str | None
    community: str | None = None


def area_of(caller: Principal | None) -> Territory:
    """The caller's own area: the whole district, a street, or one community of a street."""
    if caller is None or caller.scope.kind == "district":
        return Territory(None)
    if caller.scope.kind == "street":
        return Territory(caller.scope.value)
    if caller.scope.kind == "community":
        street, _, community = caller.scope.value.partition("/")
        return Territory(street, community or None)
    raise Forbidden(
        f"范围 {caller.scope} 不适用于本服务：需要 district、street:<街道> 或 community:<街道>/<社区>",
        code="access.scope_not_applicable",
    )


def visible_area(caller: Principal | None, street: str | None, community: str | None = None) -> Territory:
    """The filter of a list query: what was asked for, within the caller's area; asking beyond it is 403."""
    own = area_of(caller)
    if own.street is not None and street not in (None, own.street):
        raise Forbidden(f"只能查阅本街道（{own.street}）的记录", code="access.other_street")
    if own.community is not None and community not in (None, own.community):
        raise Forbidden(f"只能查阅本社区（{own.community}）的记录", code="access.other_community")
    return Territory(own.street or street, own.community or community)


def require_area(caller: Principal | None, street: str, community: str | None = None) -> None:
    """Refuse (403) a record of a street (community) outside the caller's area.

    ``community`` None: the record names only its street (an application form), so a community's
    user may handle the records of its street.
    """
    own = area_of(caller)
    if own.street is not None and own.street != street:
        raise Forbidden(
            f"此记录属于{street}街道，你只能处理本街道（{own.street}）的记录", code="access.other_street"
        )
    if own.community is not None and community is not None and own.community != community:
        raise Forbidden(
            f"此记录属于{community or '其他社区'}，你只能处理本社区（{own.community}）的记录",
            code="access.other_community",
        )


def visible_institution(caller: Principal | None, asked: str | None = None) -> str | None:
    """The institution a list is limited to: the caller's own; district callers see what they ask."""
    own = _institution(caller)
    if own is not None and asked not in (None, own):
        raise Forbidden(f"只能查阅本机构（{own}）的记录", code="access.other_institution")
    return own or asked


def require_institution(caller: Principal | None, institution_id: str | None) -> None:
    """Refuse (403) a record of another institution than the caller's own."""
    own = _institution(caller)
    if own is not None and own != institution_id:
        raise Forbidden(
            f"此记录属于机构 {institution_id}，你只能处理本机构（{own}）的记录",
            code="access.other_institution",
        )


def _institution(caller: Principal | None) -> str | None:
    if caller is None or caller.scope.kind == "district":
        return None
    if caller.scope.kind == "institution":
        return caller.scope.value
    raise Forbidden(
        f"范围 {caller.scope} 不适用于本服务：需要 district 或 institution:<机构编号>",
        code="access.scope_not_applicable",
    )


def require_district(caller: Principal | None, what: str) -> None:
    """Refuse (403) a command only the district office 区残联办 gives."""
    if caller is not None and caller.scope.kind != "district":
        raise Forbidden(f"{what}只能由区级（district）用户办理", code="access.district_only")


def require_signatory(
    caller: Principal | None, signed: Mapping[Role, str | None], allowed: tuple[Role, ...]
) -> None:
    """The caller signs in person: named in the block in one of `allowed` roles that they hold.

    The other names are copied from the paper form; the one who records the block is authenticated.
    """
    if caller is None:
        return
    if any(role in caller.roles and signed.get(role) == caller.user for role in allowed):
        return
    wanted = "、".join(_SIGNER_LABELS[role] for role in allowed)
    raise Forbidden(
        f"签字栏须由签字人本人录入：你（{caller.user}）须以自己持有的角色（{wanted}之一）签在此栏",
        code="access.signatory",
    )


_SIGNER_LABELS = {Role.HANDLER: "经办人", Role.REVIEWER: "复核人", Role.RESPONSIBLE: "负责人"}
