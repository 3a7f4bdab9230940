"""Who is calling: signed bearer tokens naming a user's agency, roles and scope (street, institution).

A deployment holds one Ed25519 token key: `rehab token` signs with the private half, every
service verifies with the public half. A token is `rehab1.<claims>.<signature>`, both parts
base64url; the claims are compact JSON. Tokens expire (8 hours by default), so a disabled user
loses access at the latest when their last token expires.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "AUDIT",
    "Agency",
    "Principal",
    "Role",
    "Scope",
    "TokenIssuer",
    "TokenRejected",
    "TokenVerifier",
    "load_public_keys",
]

TOKEN_PREFIX = "rehab1"
PUBLIC_KEY_SUFFIX = ".pub.pem"
DEFAULT_LIFETIME = timedelta(hours=8)


Agency = str
"""The agency a user works for: the name of the service it runs (deploy/services.toml), or ``AUDIT``."""

AUDIT = "audit"
"""Auditors 审计: read-only, in every service."""


class Role(StrEnum):
    """What a user may do: sign-off roles of 附件2, plain staff, or read-only audit."""

    STAFF = "staff"  # records and queries (survey team, assessor, service staff)
    HANDLER = "handler"  # 经办人
    REVIEWER = "reviewer"  # 复核人
    RESPONSIBLE = "responsible"  # 负责人
    AUDITOR = "auditor"  # read-only


@dataclass(frozen=True)
class Scope:
    """Where a user's authority ends: a street 街道, a community 社区, an institution, or the district."""

    kind: str
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, value = text.partition(":")
        if kind == "district" and not value:
            return cls("district")
        if kind in {"street", "community", "institution"} and value:
            return cls(kind, value)
        raise ValueError(
            f"scope {text!r}: expected district, street:<街道>, community:<街道>/<社区> or institution:<id>"
        )

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    def covers_street(self, street: str) -> bool:
        if self.kind == "district":
            return True
        if self.kind == "street":
            return self.value == street
        return self.kind == "community" and self.value.split("/", 1)[0] == street


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user: str
    agency: Agency
    roles: frozenset[Role]
    scope: Scope
    token_id: str = ""
    expires_at: datetime = field(default=datetime.max.replace(tzinfo=UTC), compare=False)

    @property
    def read_only(self) -> bool:
        return self.agency == AUDIT or self.roles == {Role.AUDITOR}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class TokenRejected(Exception):
    """The bearer token is missing, malformed, forged or expired (HTTP 401): ``message`` in Chinese for
    the clerk, ``code`` (``access.token_expired``, ...) for programs."""

    def __init__(self, message: str, *, code: str = "access.token_invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class TokenIssuer:
    """Signs tokens for the deployment's users (held by whoever runs `rehab token`)."""

    private_key: Ed25519PrivateKey

    def issue(
        self,
        principal: Principal,
        *,
        now: datetime,
        lifetime: timedelta = DEFAULT_LIFETIME,
        token_id: str,
    ) -> str:
        claims = {
            "sub": principal.user,
            "agency": str(principal.agency),
            "roles": sorted(str(role) for role in principal.roles),
            "scope": str(principal.scope),
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": token_id,
        }
        body = _encode(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        signature = _encode(self.private_key.sign(f"{TOKEN_PREFIX}.{body}".encode()))
        return f"{TOKEN_PREFIX}.{body}.{signature}"


@dataclass(frozen=True)
class TokenVerifier:
    """Checks tokens against the deployment's public token keys (old keys stay valid until removed)."""

    public_keys: tuple[Ed25519PublicKey, ...]

    def verify(self, token: str, *, now: datetime) -> Principal:
        prefix, body, signature = _split(token)
        signed = f"{prefix}.{body}".encode()
        if not any(_signed_by(key, signed, signature) for key in self.public_keys):
            raise TokenRejected(
                "令牌的签名无法验证（不是本系统签发或已被改动），请重新登录", code="access.token_signature"
            )
        claims = _claims(body)
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        if expires_at <= now:
            message = "令牌已过期，请重新登录（或用 rehab token 重新签发）"
            raise TokenRejected(message, code="access.token_expired")
        return _principal(claims, expires_at)


def _split(token: str) -> tuple[str, str, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        message = f"令牌格式不对：应为 {TOKEN_PREFIX}.<声明>.<签名>（用 rehab token 签发）"
        raise TokenRejected(message, code="access.token_malformed")
    try:
        return parts[0], parts[1], _decode(parts[2])
    except (binascii.Error, ValueError) as error:
        raise TokenRejected("令牌的签名不是 base64url 编码", code="access.token_malformed") from error


def _signed_by(key: Ed25519PublicKey, signed: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return False
    return True


def _claims(body: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = json.loads(_decode(body))
    except (binascii.Error, ValueError) as error:
        raise TokenRejected("令牌的声明不是 base64url 编码的 JSON", code="access.token_malformed") from error
    missing = {"sub", "agency", "roles", "scope", "exp", "jti"} - set(claims)
    if missing:
        raise TokenRejected(f"令牌缺少声明：{'、'.join(sorted(missing))}", code="access.token_claims")
    return claims


def _principal(claims: dict[str, Any], expires_at: datetime) -> Principal:
    try:
        return Principal(
            user=str(claims["sub"]),
            agency=str(claims["agency"]),
            roles=frozenset(Role(role) for role in claims["roles"]),
            scope=Scope.parse(str(claims["scope"])),
            token_id=str(claims["jti"]),
            expires_at=expires_at,
        )
    except (TypeError, ValueError) as error:
        raise TokenRejected("令牌的声明无效：角色或范围不认识", code="access.token_claims") from error


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_public_keys(folder: Path) -> tuple[Ed25519PublicKey, ...]:
    """Every token public key (`*.pub.pem`) in `folder`: services hold these, never the private key."""
    keys = []
    for path in sorted(folder.glob(f"*{PUBLIC_KEY_SUFFIX}")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    return tuple(keys)
