"""Key-encryption keys 密钥加密密钥 (KEK) for the registry's data keys, held in files outside the database.

With ``REHAB_PERSON_KEK_DIR`` set, ``person_keys`` holds each data key only wrapped (AES-256-GCM, the
person id as associated data) under a KEK kept in that directory. Every forget rotates the KEK: the live
keys are re-wrapped under a new one and the old one is destroyed (overwritten, then unlinked) once
``REHAB_PERSON_KEK_RETENTION_HOURS`` have passed and no row still uses it. A copy of a forgotten key's row
that the database cannot reach — PostgreSQL's dead tuples, WAL segments and archives, base backups, a
dump — then holds ciphertext under a KEK that no longer exists (issue 14, defect 2; docs/security.md).

Without the setting, keys are stored as they are (tests, demos, and SQLite, which erases them itself).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field

from kernel.settings import RehabSettings

FORMAT = b"\x01"
"""First byte of a wrapped key; a raw key (32 bytes, stored before wrapping) has no such header."""
KEK_ID_LENGTH = 16
NONCE_BYTES = 12
KEK_BYTES = 32
ACTIVE, RETIRED = ".kek", ".retired"


class KeyWrappingSettings(RehabSettings):
    """Where the registry's key-encryption keys live, and how long a retired one is kept."""

    person_kek_dir: Path | None = None
    """``REHAB_PERSON_KEK_DIR``: a directory outside the database and its backups; unset: keys unwrapped."""
    person_kek_retention_hours: float = Field(default=0.0, ge=0)
    """``REHAB_PERSON_KEK_RETENTION_HOURS``: how long a retired KEK is kept, so that a database backup
    taken before a rotation can still be restored; a key forgotten meanwhile is recoverable from such a
    backup for as long (0: destroyed as soon as no row uses it)."""


_VARIABLES = ("REHAB_PERSON_KEK_DIR", "REHAB_PERSON_KEK_RETENTION_HOURS")
"""The variables ``KeyWrappingSettings`` reads: a change of either is a new configuration."""


@lru_cache(maxsize=8)
def _configured(_variables: tuple[str | None, ...]) -> KekStore | None:
    """``KekStore.configured`` for one value of ``_VARIABLES`` (a refused value raises, and is not kept)."""
    settings = KeyWrappingSettings()
    if settings.person_kek_dir is None:
        return None
    return KekStore(settings.person_kek_dir, settings.person_kek_retention_hours * 3600)


class UnknownKek(LookupError):
    """A wrapped key names a KEK that is not in the directory (destroyed, or a wrong directory)."""


@dataclass(frozen=True)
class KekStore:
    """The KEK files of one registry: ``<id>.kek`` (the newest wraps new keys), ``<id>.retired``."""

    directory: Path
    retention_seconds: float = 0.0

    @classmethod
    def configured(cls) -> KekStore | None:
        """The store ``REHAB_PERSON_KEK_*`` name (None: wrapping is off), read again whenever they change.

        Every key read and every registration asks, so the settings are parsed once per value of the
        variables (parsing them cost more than the rest of a registration), not once per call.
        """
        return _configured(tuple(os.environ.get(name) for name in _VARIABLES))

    def current(self) -> tuple[str, bytes]:
        """The KEK that wraps new keys: the newest active one (ids sort by creation), created if none."""
        active = self._files(ACTIVE)
        if not active:
            return self.create()
        return active[-1].stem, active[-1].read_bytes()

    def create(self) -> tuple[str, bytes]:
        """A new KEK, on disk (0600, synced) before any key is wrapped under it."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        kek_id = f"{time.time_ns():0{KEK_ID_LENGTH}x}"[-KEK_ID_LENGTH:]
        secret = secrets.token_bytes(KEK_BYTES)
        descriptor = os.open(
            self.directory / f"{kek_id}{ACTIVE}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
        )
        try:
            os.write(descriptor, secret)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return kek_id, secret

    def secret(self, kek_id: str) -> bytes:
        for suffix in (ACTIVE, RETIRED):
            path = self.directory / f"{kek_id}{suffix}"
            if path.is_file():
                return path.read_bytes()
        raise UnknownKek(f"key-encryption key {kek_id} is not in {self.directory}")

    def retire_all_but(self, kek_id: str) -> None:
        """Every active KEK but ``kek_id`` stops wrapping; its retirement time is now."""
        for path in self._files(ACTIVE):
            if path.stem != kek_id:
                retired = path.with_suffix(RETIRED)
                path.rename(retired)
                os.utime(retired)

    def expired(self) -> list[str]:
        """Retired KEKs older than the retention."""
        deadline = time.time() - self.retention_seconds
        return [path.stem for path in self._files(RETIRED) if path.stat().st_mtime <= deadline]

    def destroy(self, kek_id: str) -> None:
        """Overwrite the KEK's file with zeros, sync, unlink: its bytes leave the file it was in."""
        path = self.directory / f"{kek_id}{RETIRED}"
        try:
            with path.open("r+b") as handle:
                handle.write(bytes(KEK_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:  # another thread or process destroyed it first
            pass

    def _files(self, suffix: str) -> list[Path]:
        return sorted(self.directory.glob(f"*{suffix}")) if self.directory.is_dir() else []


def wrap(kek_id: str, kek: bytes, person_id: str, key: bytes) -> bytes:
    """``01 | kek id | nonce | AES-GCM(kek, key, aad=person id)``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(kek).encrypt(nonce, key, person_id.encode())
    return FORMAT + kek_id.encode("ascii") + nonce + sealed


def is_wrapped(stored: bytes) -> bool:
    """A raw data key is exactly 32 bytes; a wrapped one is 77."""
    return stored[:1] == FORMAT and len(stored) == 1 + KEK_ID_LENGTH + NONCE_BYTES + KEK_BYTES + 16


def kek_of(stored: bytes) -> str | None:
    """The id of the KEK a stored key is wrapped under; None for a raw key."""
    return stored[1 : 1 + KEK_ID_LENGTH].decode("ascii") if is_wrapped(stored) else None


def unwrap(store: KekStore | None, person_id: str, stored: bytes) -> bytes:
    """The data key of a stored value, wrapped or (stored before wrapping) raw."""
    kek_id = kek_of(stored)
    if kek_id is None:
        return stored
    if store is None:
        raise UnknownKek(
            f"the key of {person_id} is wrapped under {kek_id}, but REHAB_PERSON_KEK_DIR is unset"
        )
    nonce = stored[1 + KEK_ID_LENGTH : 1 + KEK_ID_LENGTH + NONCE_BYTES]
    sealed = stored[1 + KEK_ID_LENGTH + NONCE_BYTES :]
    return AESGCM(store.secret(kek_id)).decrypt(nonce, sealed, person_id.encode())
