"""Signed events: each agency signs the canonical envelope with Ed25519; consumers verify the producer.

Canonical bytes (what is signed): the envelope in pydantic's JSON mode (UUIDs as lowercase
hyphenated text, times in ISO 8601 as recorded, ``causation_id`` null when absent, the payload as
its JSON object), every field except ``signature``, keys sorted at every level, no whitespace
(separators ``,`` and ``:``), non-ASCII characters kept as they are, encoded as UTF-8.

Signature field: ``ed25519:<key id>:<standard base64 of the 64-byte signature>``.

The keys are read and written with ``cryptography`` (PEM files); a service's own signatures and its checks
of every consumed event go through libsodium (PyNaCl) with the same keys' raw bytes: the same RFC 8032
signatures, ~41 instead of ~64 µs per check here (ADR 0022).

Key directory (``REHAB_KEYS_DIR``, written by ``rehab keys``): one folder per agency holding
``<key id>.pub`` (PEM SubjectPublicKeyInfo), ``<key id>.key`` (PEM PKCS#8, mode 0600, only on
the agency's own machine) and an optional ``revoked`` file (key ids, one a line). Key ids start
with the agency and a UTC timestamp, so the newest key sorts last.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from nacl.bindings import crypto_sign, crypto_sign_BYTES, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from rehab_contracts import EventEnvelope

from kernel.messaging.outcomes import EventRejected

log = logging.getLogger(__name__)

SCHEME = "ed25519"
PUBLIC_SUFFIX = ".pub"
PRIVATE_SUFFIX = ".key"
REVOKED_FILE = "revoked"


class SignatureRejected(EventRejected):
    """A consumed event is unsigned, tampered with, or not signed by a key of its producer."""


class KeyMaterialError(Exception):
    """The key directory cannot be used as configured (missing, unreadable, too open)."""


def canonical_bytes(envelope: EventEnvelope) -> bytes:
    """The bytes an agency signs: sorted-key compact JSON of every field but the signature, UTF-8."""
    return canonical_json(envelope.model_dump(mode="json", exclude={"signature"}))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""``json.dumps`` with these options, made once (``dumps`` makes an encoder per call): every event the relay
publishes and every event a consumer checks is encoded here."""


def canonical_json(unsigned: dict[str, Any]) -> bytes:
    """:func:`canonical_bytes` of an envelope already dumped in JSON mode, without its signature field."""
    return _CANONICAL.encode(unsigned).encode("utf-8")


def sign(envelope: EventEnvelope, key_id: str, private_key: Ed25519PrivateKey) -> EventEnvelope:
    """The envelope with its signature field set (any previous signature is replaced)."""
    signature = signature_field(canonical_bytes(envelope), key_id, private_key)
    return envelope.model_copy(update={"signature": signature})


def signature_field(canonical: bytes, key_id: str, private_key: Ed25519PrivateKey) -> str:
    """The signature field of an envelope whose canonical bytes these are."""
    return _field(key_id, private_key.sign(canonical))


def _field(key_id: str, raw: bytes) -> str:
    """``ed25519:<key id>:<base64>``: the signature field of a raw signature."""
    return f"{SCHEME}:{key_id}:{base64.b64encode(raw).decode('ascii')}"


def parse_signature(signature: str | None) -> tuple[str, bytes]:
    """The key id and raw signature of a signature field; SignatureRejected when absent or malformed."""
    if not signature:
        raise SignatureRejected(f"unsigned: events must carry an {SCHEME} signature of their producer")
    scheme, _, rest = signature.partition(":")
    key_id, _, encoded = rest.rpartition(":")
    if scheme != SCHEME or not key_id or not encoded:
        raise SignatureRejected(
            f"malformed signature {signature[:60]!r}: expected {SCHEME}:<key id>:<base64>"
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureRejected(f"malformed signature of key {key_id!r}: not base64 ({error})") from error
    return key_id, raw


@dataclass(frozen=True)
class PublicKey:
    """One public key ever issued to an agency."""

    key_id: str
    agency: str
    key: Ed25519PublicKey
    revoked: bool = False

    @cached_property
    def verifier(self) -> VerifyKey:
        """The same key for libsodium's check."""
        return VerifyKey(self.key.public_bytes_raw())

    def signed(self, canonical: bytes, raw: bytes) -> bool:
        """Is ``raw`` this key's signature of ``canonical``? (Not 64 bytes: no.)"""
        try:
            self.verifier.verify(canonical, raw)
        except (BadSignatureError, ValueError):  # nacl's ValueError: a signature of another length
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """The private key an agency signs new events with (its newest, not revoked)."""

    key_id: str
    agency: str
    key: Ed25519PrivateKey

    @cached_property
    def secret_key(self) -> bytes:
        """The same key as libsodium signs with (its seed and public key)."""
        _public, secret = crypto_sign_seed_keypair(self.key.private_bytes_raw())
        return secret

    def signature(self, canonical: bytes) -> str:
        """The signature field of an envelope whose canonical bytes these are (the bytes
        :func:`signature_field` gives: Ed25519 signatures are deterministic).

        libsodium's ``crypto_sign`` as PyNaCl binds it, without ``nacl.signing``'s wrapping of its result
        (a ``SignedMessage`` made per call): the relay signs every event it publishes."""
        signed = crypto_sign(canonical, self.secret_key)  # the signature, then the message
        return _field(self.key_id, signed[:crypto_sign_BYTES])


class KeyRing:
    """Every agency's public keys, and the own agency's signing key when it has one.

    Loaded from a key directory, it rereads the directory when it meets a key id it does not know
    (a key rotated after the service started) and, before signing, when the own agency's folder
    changed (``rehab keys rotate`` takes effect without a restart).
    """

    def __init__(
        self,
        public_keys: list[PublicKey],
        signing_key: SigningKey | None = None,
        *,
        directory: Path | None = None,
        agency: str | None = None,
    ) -> None:
        self.public_keys = {key.key_id: key for key in public_keys}
        self.signing_key = signing_key
        self.directory = directory
        self.agency = agency
        self._lock = threading.Lock()
        self._seen_change = _directory_change(directory)
        self._seen_own_change = _folder_change(directory, agency)

    @classmethod
    def from_directory(cls, directory: Path, agency: str | None = None) -> KeyRing:
        """All public keys under ``directory``; the newest private key of ``agency`` if given."""
        if not directory.is_dir():
            raise KeyMaterialError(
                f"key directory {directory} does not exist (rehab keys generate creates it)"
            )
        public_keys, signing_key = _read_directory(directory, agency)
        return cls(public_keys, signing_key, directory=directory, agency=agency)

    def sign(self, envelope: EventEnvelope) -> EventEnvelope:
        """Sign with the own agency's newest key; KeyMaterialError when this service has none."""
        signing_key = self.current_signing_key()
        signature = signing_key.signature(canonical_bytes(envelope))
        return envelope.model_copy(update={"signature": signature})

    def current_signing_key(self) -> SigningKey:
        """The key to sign a batch with, the own agency's folder looked at first (a key rotated or revoked
        since takes effect at once); KeyMaterialError when this service has none.

        Only that folder can change which key signs: three ``stat`` calls, not the whole directory's
        (``refresh``, ~16 calls and a listing), every relay pass, every command's included."""
        if (
            self.directory is not None
            and _folder_change(self.directory, self.agency) != self._seen_own_change
        ):
            self._reload_and_say()
        signing_key = self.signing_key
        if signing_key is None:
            raise KeyMaterialError(f"no private key of {self.agency} in {self.directory}")
        return signing_key

    def verify(self, envelope: EventEnvelope, *, recheck: bool = True) -> str:
        """The key id that signed the envelope; SignatureRejected unless a key of its producer did.

        ``recheck=False``: the caller looked at the key directory (:meth:`refresh`) for its whole batch.
        """
        key_id, raw = parse_signature(envelope.signature)
        if recheck:
            self.refresh()  # a key revoked (or issued) since the last event
        key = self._public_key(key_id)
        if key.agency != envelope.producer:
            raise SignatureRejected(
                f"signed with key {key_id} of {key.agency!r}, but the event claims producer "
                f"{envelope.producer!r}: only {envelope.producer}'s keys may sign its events"
            )
        if key.revoked:
            raise SignatureRejected(f"signed with key {key_id} of {key.agency!r}, which was revoked")
        if not key.signed(canonical_bytes(envelope), raw):
            raise SignatureRejected(
                f"signature of key {key_id} does not match the envelope: it was changed after "
                f"{key.agency!r} signed it"
            )
        return key_id

    def _public_key(self, key_id: str) -> PublicKey:
        key = self.public_keys.get(key_id)
        if key is None and self.directory is not None:
            self.reload()  # a key issued after this service started
            key = self.public_keys.get(key_id)
        if key is None:
            raise SignatureRejected(
                f"signed with unknown key {key_id!r} (not among the configured public keys)"
            )
        return key

    def reload(self) -> None:
        """Read the key directory again (new, rotated or revoked keys)."""
        if self.directory is None:
            return
        with self._lock:
            self._seen_change = _directory_change(self.directory)
            self._seen_own_change = _folder_change(self.directory, self.agency)
            public_keys, signing_key = _read_directory(self.directory, self.agency)
            self.public_keys = {key.key_id: key for key in public_keys}
            if signing_key is not None or self.agency is not None:
                self.signing_key = signing_key

    def refresh(self) -> None:
        """Read the key directory again if a key was issued, rotated or revoked since it was read."""
        self._reload_if_changed()

    def _reload_if_changed(self) -> None:
        if self.directory is not None and _directory_change(self.directory) != self._seen_change:
            self._reload_and_say()

    def _reload_and_say(self) -> None:
        before = self.signing_key
        self.reload()
        if self.signing_key is not None and self.signing_key != before:
            log.info("%s now signs with key %s", self.agency, self.signing_key.key_id)


def _directory_change(directory: Path | None) -> tuple[int, ...] | None:
    """When the key directory, an agency's folder or its ``revoked`` file last changed: a new, rotated
    or revoked key changes one of them (appending to ``revoked`` leaves its folder's time alone)."""
    if directory is None:
        return None
    try:
        times = [directory.stat().st_mtime_ns]
        for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
            revoked = folder / REVOKED_FILE
            times += [folder.stat().st_mtime_ns, revoked.stat().st_mtime_ns if revoked.exists() else 0]
    except OSError:
        return None
    return tuple(times)


def _folder_change(directory: Path | None, agency: str | None) -> tuple[int, ...] | None:
    """When the key directory, the agency's folder and its ``revoked`` file last changed (and which
    folder it is): a key issued, rotated or revoked for the agency changes one of them."""
    if directory is None or agency is None:
        return None
    times: list[int] = []
    for path in _watched_paths(directory, agency):
        try:
            status = os.stat(path)
        except OSError:
            times += [0, 0]
        else:
            times += [status.st_ino, status.st_mtime_ns]
    return tuple(times)


@lru_cache(maxsize=64)
def _watched_paths(directory: Path, agency: str) -> tuple[str, str, str]:
    """The paths ``_folder_change`` looks at, as text made once: building them as ``Path`` objects cost
    more than the three ``stat`` calls, every relay pass."""
    folder = directory / agency
    return str(directory), str(folder), str(folder / REVOKED_FILE)


def _read_directory(directory: Path, agency: str | None) -> tuple[list[PublicKey], SigningKey | None]:
    public_keys: list[PublicKey] = []
    for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
        revoked = revoked_key_ids(folder)
        for path in sorted(folder.glob("*" + PUBLIC_SUFFIX)):
            key_id = path.name.removesuffix(PUBLIC_SUFFIX)
            key = _load(load_pem_public_key, path)
            if not isinstance(key, Ed25519PublicKey):
                raise KeyMaterialError(f"{path} is not an Ed25519 public key")
            public_keys.append(PublicKey(key_id, folder.name, key, key_id in revoked))
    signing_key = _newest_private_key(directory / agency) if agency else None
    return public_keys, signing_key


def revoked_key_ids(folder: Path) -> set[str]:
    """Key ids listed in an agency folder's ``revoked`` file."""
    path = folder / REVOKED_FILE
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def _newest_private_key(folder: Path) -> SigningKey | None:
    if not folder.is_dir():
        return None
    revoked = revoked_key_ids(folder)
    candidates = sorted(
        path
        for path in folder.glob("*" + PRIVATE_SUFFIX)
        if path.name.removesuffix(PRIVATE_SUFFIX) not in revoked
    )
    if not candidates:
        return None
    path = candidates[-1]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyMaterialError(f"private key {path} is readable by others (mode {mode:o}): chmod 600 {path}")
    key = _load(lambda data: load_pem_private_key(data, password=None), path)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMaterialError(f"{path} is not an Ed25519 private key")
    return SigningKey(path.name.removesuffix(PRIVATE_SUFFIX), folder.name, key)


def _load(loader: Callable[[bytes], Any], path: Path) -> Any:
    try:
        return loader(path.read_bytes())
    except (ValueError, TypeError) as error:
        raise KeyMaterialError(f"{path} is not a readable PEM key ({error})") from error
