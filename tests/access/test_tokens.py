"""Bearer tokens: signed by the deployment's token key, naming agency, roles and scope, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.access.auth import Principal, Role, Scope, TokenIssuer, TokenRejected, TokenVerifier

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
CLERK = Principal("孙干事", "approval", frozenset({Role.HANDLER}), Scope.parse("street:鸳鸯"))


def issue(principal: Principal = CLERK, key: Ed25519PrivateKey = KEY, lifetime=timedelta(hours=8)) -> str:
    return TokenIssuer(key).issue(principal, now=NOW, lifetime=lifetime, token_id="t-1")


def test_a_token_verifies_back_to_the_user_agency_roles_and_scope():
    principal = TokenVerifier((KEY.public_key(),)).verify(issue(), now=NOW + timedelta(hours=1))
    assert (principal.user, principal.agency, principal.roles, principal.scope) == (
        "孙干事",
        "approval",
        frozenset({Role.HANDLER}),
        Scope("street", "鸳鸯"),
    )
    assert principal.expires_at == NOW + timedelta(hours=8)


def test_an_expired_token_is_rejected():
    with pytest.raises(TokenRejected, match="已过期") as rejected:
        TokenVerifier((KEY.public_key(),)).verify(issue(), now=NOW + timedelta(hours=8))
    assert rejected.value.code == "access.token_expired"


def test_a_token_signed_by_another_deployment_is_rejected():
    with pytest.raises(TokenRejected, match="签名") as rejected:
        TokenVerifier((KEY.public_key(),)).verify(issue(key=Ed25519PrivateKey.generate()), now=NOW)
    assert rejected.value.code == "access.token_signature"


def test_a_token_whose_claims_were_edited_is_rejected():
    prefix, _original_body, signature = issue().split(".")
    forged_principal = Principal("孙干事", "approval", frozenset({Role.RESPONSIBLE}), Scope("district"))
    _, forged_body, _ = issue(forged_principal, key=Ed25519PrivateKey.generate()).split(".")
    with pytest.raises(TokenRejected, match="签名"):
        TokenVerifier((KEY.public_key(),)).verify(f"{prefix}.{forged_body}.{signature}", now=NOW)


def test_an_old_public_key_kept_after_rotation_still_verifies_its_tokens():
    new_key = Ed25519PrivateKey.generate()
    verifier = TokenVerifier((new_key.public_key(), KEY.public_key()))
    assert verifier.verify(issue(), now=NOW).user == "孙干事"
    assert verifier.verify(issue(key=new_key), now=NOW).user == "孙干事"


@pytest.mark.parametrize("token", ["", "Bearer", "rehab1.e30", "jwt.a.b", "rehab1.!!.??", "rehab1.e30.AAAA"])
def test_malformed_tokens_are_rejected_with_a_reason(token):
    with pytest.raises(TokenRejected):
        TokenVerifier((KEY.public_key(),)).verify(token, now=NOW)


@pytest.mark.parametrize(
    ("scope", "street", "covered"),
    [
        ("district", "鸳鸯", True),
        ("street:鸳鸯", "鸳鸯", True),
        ("street:鸳鸯", "人和", False),
        ("community:鸳鸯/金开社区", "鸳鸯", True),
        ("institution:inst-1", "鸳鸯", False),
    ],
)
def test_a_scope_covers_only_its_own_street(scope, street, covered):
    assert Scope.parse(scope).covers_street(street) is covered


@pytest.mark.parametrize("text", ["street", "street:", "city:重庆", "district:x", ""])
def test_a_malformed_scope_is_refused(text):
    with pytest.raises(ValueError, match="scope"):
        Scope.parse(text)
