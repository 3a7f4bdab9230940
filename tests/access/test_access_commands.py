"""`rehab users`, `rehab token` and `rehab audit` as an administrator and an auditor use them."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine

from kernel.access.audit import AuditEntry, AuditTrail
from kernel.access.auth import Role, Scope, TokenRejected, TokenVerifier, load_public_keys
from rehab.cli import main


def rehab(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture
def access_dir(tmp_path):
    return tmp_path / "access"


def add_clerk(access_dir) -> None:
    argv = ["users", "add", "孙干事", "--agency", "approval", "--role", "handler", "--scope", "street:鸳鸯"]
    assert rehab(*argv, "--access-dir", str(access_dir)) == 0


def issued_token(access_dir, capsys) -> str:
    capsys.readouterr()
    assert rehab("token", "孙干事", "--access-dir", str(access_dir)) == 0
    return capsys.readouterr().out.strip()


def verify(access_dir, token: str):
    return TokenVerifier(load_public_keys(access_dir)).verify(token, now=datetime.now(UTC))


def test_an_added_user_is_listed_with_agency_roles_and_scope(access_dir, capsys):
    add_clerk(access_dir)
    capsys.readouterr()
    assert rehab("users", "list", "--access-dir", str(access_dir)) == 0
    heading, clerk = capsys.readouterr().out.splitlines()
    assert heading.split() == [
        "用户（user）",
        "机构（agency）",
        "角色（roles）",
        "范围（scope）",
        "状态（state）",
    ]
    assert clerk.split() == ["孙干事", "approval", "handler", "street:鸳鸯", "可用"]


def test_a_token_issued_to_a_user_verifies_with_the_public_keys_services_hold(access_dir, capsys):
    add_clerk(access_dir)
    principal = verify(access_dir, issued_token(access_dir, capsys))
    assert (principal.user, principal.agency, principal.roles, principal.scope) == (
        "孙干事",
        "approval",
        frozenset({Role.HANDLER}),
        Scope("street", "鸳鸯"),
    )


def test_the_private_token_key_is_readable_by_its_owner_only(access_dir, capsys):
    add_clerk(access_dir)
    issued_token(access_dir, capsys)
    assert stat.S_IMODE((access_dir / "token-key.pem").stat().st_mode) == 0o600


def test_a_disabled_user_gets_no_new_token(access_dir, capsys):
    add_clerk(access_dir)
    assert rehab("users", "disable", "孙干事", "--access-dir", str(access_dir)) == 0
    assert rehab("token", "孙干事", "--access-dir", str(access_dir)) == 1
    assert "disabled" in capsys.readouterr().err


def test_an_unknown_user_gets_no_token(access_dir, capsys):
    add_clerk(access_dir)
    assert rehab("token", "钱科长", "--access-dir", str(access_dir)) == 1
    assert "no user" in capsys.readouterr().err


def test_after_rotating_the_token_key_old_and_new_tokens_both_verify(access_dir, capsys):
    add_clerk(access_dir)
    old = issued_token(access_dir, capsys)
    assert rehab("users", "rotate-key", "--access-dir", str(access_dir)) == 0
    new = issued_token(access_dir, capsys)
    assert verify(access_dir, old).user == verify(access_dir, new).user == "孙干事"
    assert len(load_public_keys(access_dir)) == 2


def test_a_token_from_another_deployment_does_not_verify(tmp_path, access_dir, capsys):
    add_clerk(access_dir)
    add_clerk(tmp_path / "elsewhere")
    foreign = issued_token(tmp_path / "elsewhere", capsys)
    issued_token(access_dir, capsys)
    with pytest.raises(TokenRejected):
        verify(access_dir, foreign)


def test_adding_a_user_without_a_role_or_with_a_bad_scope_is_refused(access_dir, capsys):
    assert (
        rehab(
            "users", "add", "x", "--agency", "survey", "--scope", "district", "--access-dir", str(access_dir)
        )
        == 2
    )
    assert rehab("users", "add", "x", "--agency", "survey", "--role", "staff", "--scope", "city:重庆") == 2


def test_rehab_audit_lists_the_reads_of_one_person(tmp_path, capsys):
    trail = AuditTrail(create_engine(f"sqlite:///{tmp_path}/survey.db"))
    read_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    for subject in ("person-1", "person-2"):
        trail.record(
            AuditEntry(
                read_at,
                "周干事",
                "survey",
                "staff",
                "street:鸳鸯",
                f"GET /persons/{subject}",
                subject,
                "入户核查",
                200,
            )
        )
    assert rehab("audit", "--service", "survey", "--subject", "person-1", "--var-dir", str(tmp_path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "2025-03-01T09:30:00\t周干事\tsurvey\tstaff\tstreet:鸳鸯\t"
        "GET /persons/person-1\tperson-1\t入户核查\t200"
    ]
