"""Who may have a person's data key: agencies entitled by configuration, proven by a signed bearer token.

Key release is off unless a token verifier is configured (``REHAB_ACCESS_DIR`` holding the deployment's
token public keys, as `rehab users` writes them): without one nobody can prove which agency they are,
so no key leaves the registry (see docs/adr/0007-personal-data-encryption.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request

from kernel.access.access import caller_of
from kernel.access.auth import Agency, Principal, TokenRejected, TokenVerifier, load_public_keys
from kernel.domain.rejections import CommandRejected
from kernel.settings import RehabSettings

DEFAULT_ENTITLED = frozenset({"settlement"})
"""Settlement prints 附件3 (name, ID and certificate numbers, phone, address): it needs the keys."""


class ReleaseSettings(RehabSettings):
    """Which agencies survey releases personal data to, each a comma-separated list of agency names;
    unset: the defaults of the release it configures."""

    data_key_agencies: str = ""
    """``REHAB_DATA_KEY_AGENCIES``: agencies given persons' data keys."""
    name_agencies: str = ""
    """``REHAB_NAME_AGENCIES``: agencies whose pages name the persons they work on."""
    basic_info_agencies: str = ""
    """``REHAB_BASIC_INFO_AGENCIES``: agencies shown a person's basic information."""


def agencies(listed: str) -> frozenset[Agency]:
    """``delivery, settlement`` -> {delivery, settlement}."""
    return frozenset(Agency(name.strip()) for name in listed.split(",") if name.strip())


class Unauthenticated(CommandRejected):
    """No valid bearer token: HTTP 401."""

    status_code = 401


class KeyReleaseRefused(CommandRejected):
    """The caller's agency is not entitled to personal data keys, or release is off: HTTP 403."""

    status_code = 403


class KeyDestroyed(CommandRejected):
    """The person was forgotten: their key no longer exists, and never will again: HTTP 410."""

    status_code = 410


@dataclass(frozen=True)
class KeyRelease:
    """Whose tokens the registry trusts, and which agencies may have personal data keys."""

    verifier: TokenVerifier
    entitled: frozenset[Agency] = DEFAULT_ENTITLED

    @classmethod
    def configured(cls, access_dir: Path | None) -> KeyRelease | None:
        """From the token public keys in ``access_dir`` (REHAB_ACCESS_DIR) and ``REHAB_DATA_KEY_AGENCIES``."""
        public_keys = load_public_keys(access_dir) if access_dir is not None else ()
        if not public_keys:
            return None
        entitled = agencies(ReleaseSettings().data_key_agencies)
        return cls(TokenVerifier(public_keys), entitled or DEFAULT_ENTITLED)

    def authorise(self, request: Request) -> Principal:
        """The caller, if their agency is entitled to keys; raises Unauthenticated or KeyReleaseRefused."""
        principal = caller_of(request) or bearer_of(request, self.verifier, needs="获取个人信息密钥")
        if principal.agency not in self.entitled:
            entitled = "、".join(sorted(self.entitled))
            raise KeyReleaseRefused(
                f"{principal.agency} 无权获取个人信息密钥（有权的机构：{entitled}）",
                code="survey.data_key.not_entitled",
            )
        return principal


def bearer_of(request: Request, verifier: TokenVerifier, *, needs: str) -> Principal:
    """The caller proven by their bearer token, for a route other agencies call (the registry checks the
    token itself, access control or not); raises Unauthenticated (401) saying what ``needs`` it."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(f"{needs}需要 Authorization: Bearer <token>", code="access.unauthenticated")
    try:
        return verifier.verify(token.strip(), now=datetime.now(UTC))
    except TokenRejected as rejected:
        raise Unauthenticated(f"未通过身份验证：{rejected}", code="access.unauthenticated") from None


def key_release_of(request: Request) -> KeyRelease:
    """The app's key release policy; refuses (403) when none is configured."""
    release: KeyRelease | None = getattr(request.app.state, "key_release", None)
    if release is None:
        raise KeyReleaseRefused(
            "个人信息密钥不外发：本服务未配置身份验证（REHAB_ACCESS_DIR）",
            code="survey.data_key.release_off",
        )
    return release
