"""Where a caller's authority ends: district, street, community, institution; no caller means no limit."""

from __future__ import annotations

import pytest

from kernel.access.access import Forbidden
from kernel.access.auth import Principal, Role, Scope
from kernel.access.scopes import (
    Territory,
    require_area,
    require_signatory,
    visible_area,
    visible_institution,
)


def caller(scope: str, *roles: Role, user: str = "孙干事") -> Principal:
    return Principal(user, "approval", frozenset(roles or (Role.STAFF,)), Scope.parse(scope))


def test_without_a_caller_nothing_is_limited():
    assert visible_area(None, "人和") == Territory("人和")
    assert visible_institution(None, "x") == "x"
    require_area(None, "人和")


def test_a_list_is_narrowed_to_the_callers_street_or_community():
    assert visible_area(caller("district"), None) == Territory(None)
    assert visible_area(caller("street:鸳鸯"), None) == Territory("鸳鸯")
    assert visible_area(caller("community:鸳鸯/金渝社区"), "鸳鸯") == Territory("鸳鸯", "金渝社区")


@pytest.mark.parametrize(
    ("scope", "street", "community", "code"),
    [
        ("street:鸳鸯", "人和", None, "access.other_street"),
        ("community:鸳鸯/金渝社区", "鸳鸯", "鸳鸯社区", "access.other_community"),
        ("institution:lj-first-hospital", "鸳鸯", None, "access.scope_not_applicable"),
    ],
)
def test_a_record_outside_the_callers_area_is_refused_with_the_reason(scope, street, community, code):
    with pytest.raises(Forbidden) as refused:
        require_area(caller(scope), street, community)
    assert refused.value.code == code


def test_a_community_user_handles_records_that_name_only_their_street():
    require_area(caller("community:鸳鸯/金渝社区"), "鸳鸯")


def test_an_institution_sees_only_its_own_and_a_street_scope_does_not_apply():
    assert visible_institution(caller("institution:a")) == "a"
    with pytest.raises(Forbidden):
        visible_institution(caller("institution:a"), "b")
    with pytest.raises(Forbidden):
        visible_institution(caller("street:鸳鸯"))


def test_a_signatory_records_a_block_only_in_a_role_they_hold_under_their_own_name():
    block = {Role.RESPONSIBLE: "赵主任", Role.REVIEWER: "钱科长", Role.HANDLER: "孙干事"}
    require_signatory(caller("district", Role.HANDLER), block, (Role.HANDLER, Role.RESPONSIBLE))
    with pytest.raises(Forbidden):
        require_signatory(caller("district", Role.HANDLER), block, (Role.RESPONSIBLE,))
    with pytest.raises(Forbidden):
        require_signatory(caller("district", Role.RESPONSIBLE), block, (Role.RESPONSIBLE,))
