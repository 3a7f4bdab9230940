"""Agencies' event-signing keys on disk: generate, rotate, revoke, list (layout in eventing.signing)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from kernel.messaging.signing import PRIVATE_SUFFIX, PUBLIC_SUFFIX, REVOKED_FILE, revoked_key_ids


class KeysExist(Exception):
    """The agency already has keys (rotate instead of generating again)."""


class UnknownKey(Exception):
    """No such key id for the agency."""


@dataclass(frozen=True)
class KeyInfo:
    """One key of one agency as `rehab keys list` shows it."""

    agency: str
    key_id: str
    has_private_key: bool
    revoked: bool
    signing: bool
    """The key new events are signed with (the newest private key not revoked)."""


def new_key_id(agency: str, now: datetime | None = None) -> str:
    """``<agency>-<UTC time to the microsecond>-<random>``: sorts by creation time, never collides."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{agency}-{moment:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


def generate(directory: Path, agency: str) -> str:
    """The agency's first key pair; KeysExist when it has one already."""
    existing = key_ids(directory, agency)
    if existing:
        raise KeysExist(f"{agency} 在 {directory} 已有密钥 {existing[-1]}")
    return _write_pair(directory, agency)


def rotate(directory: Path, agency: str) -> str:
    """A new key pair for the agency; earlier public keys stay, so events they signed still verify."""
    return _write_pair(directory, agency)


def ensure_keys(directory: Path, agencies: Iterable[str]) -> list[str]:
    """Generate a key pair for each agency that has none; returns the new key ids."""
    return [generate(directory, agency) for agency in agencies if not key_ids(directory, agency)]


def revoke(directory: Path, agency: str, key_id: str) -> None:
    """Stop trusting a key: events it signed are dead-lettered, and it never signs again."""
    if key_id not in key_ids(directory, agency):
        raise UnknownKey(f"{agency} 在 {directory} 没有密钥 {key_id}")
    folder = directory / agency
    if key_id not in revoked_key_ids(folder):
        with (folder / REVOKED_FILE).open("a") as revoked:
            revoked.write(key_id + "\n")


def key_ids(directory: Path, agency: str) -> list[str]:
    """The agency's key ids, oldest first."""
    folder = directory / agency
    if not folder.is_dir():
        return []
    return sorted(path.name.removesuffix(PUBLIC_SUFFIX) for path in folder.glob("*" + PUBLIC_SUFFIX))


def list_keys(directory: Path) -> list[KeyInfo]:
    """Every key of every agency in the directory."""
    if not directory.is_dir():
        return []
    keys: list[KeyInfo] = []
    for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
        revoked = revoked_key_ids(folder)
        usable = [
            key_id
            for key_id in key_ids(directory, folder.name)
            if key_id not in revoked and (folder / (key_id + PRIVATE_SUFFIX)).exists()
        ]
        signing = usable[-1] if usable else None
        for key_id in key_ids(directory, folder.name):
            private = (folder / (key_id + PRIVATE_SUFFIX)).exists()
            keys.append(KeyInfo(folder.name, key_id, private, key_id in revoked, key_id == signing))
    return keys


KEY_HEADINGS = ("机构（agency）", "密钥编号（key id）", "私钥（private key）", "状态（status）")


def key_rows(keys: list[KeyInfo]) -> list[tuple[str, str, str, str]]:
    """One row per key as `rehab keys list` shows it, under :data:`KEY_HEADINGS`."""
    return [(key.agency, key.key_id, "有" if key.has_private_key else "无", _status(key)) for key in keys]


def _status(key: KeyInfo) -> str:
    if key.revoked:
        return "已吊销（revoked）"
    return "签名新事件（signs new events）" if key.signing else "只验证（verifies）"


def _write_pair(directory: Path, agency: str) -> str:
    folder = directory / agency
    folder.mkdir(parents=True, exist_ok=True)
    key_id = new_key_id(agency)
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    # The public key first: a service meeting the new key id can verify before the pair is complete.
    write_key_file(folder / (key_id + PUBLIC_SUFFIX), public_pem, 0o644)
    write_key_file(folder / (key_id + PRIVATE_SUFFIX), private_pem, 0o600)
    return key_id


def write_key_file(path: Path, pem: bytes, mode: int, *, replace: bool = False) -> None:
    """Written under a temporary name with its final mode from the start (a private key is never
    readable by others, even briefly), then moved in place: a running service never reads half a key.
    Without ``replace`` an existing key is never overwritten (the move fails instead)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # left by a crash mid-write
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    os.chmod(temporary, mode)  # the umask may have narrowed a public key's mode
    if replace:
        temporary.replace(path)
        return
    try:
        os.link(temporary, path)  # atomic, and fails rather than overwrite an existing key
    finally:
        temporary.unlink()
