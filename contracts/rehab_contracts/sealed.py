"""Personal details sealed under a person's data key (AES-256-GCM), so they can be crypto-shredded.

The survey registry mints one random 256-bit data key per person and seals the identifying
fields of ``PersonRegisteredV2`` / ``PersonDetailsCorrectedV2`` with it. Whoever holds the key (the
registry, and agencies it releases the key to) can open them; once the registry destroys the key
(``rehab forget``) nobody can, while the event itself stays in the immutable history.

The associated data binds a ciphertext to its person id, event type and key id: a sealed field
copied into another person's event, or another event type, does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from typing import Final, Literal, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field, ValidationError

from rehab_contracts.events.common import ContractModel

ALGORITHM: Final = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_PATTERN = r"^pdk-[0-9a-f]{16}$"
REDACTED = "（已删除）"
"""How a personal field reads once its person was forgotten (the data key destroyed)."""
UNAVAILABLE = "（不可用）"
"""How a personal field reads when its key cannot be had (not released, or the ciphertext is broken)."""

Details = TypeVar("Details", bound=BaseModel)


class SealBroken(ValueError):
    """A sealed field does not open: wrong key, tampered, or moved to another person or event."""


class SealedPersonalData(ContractModel):
    """Personal details 个人信息 sealed with the person's data key (AES-256-GCM; rehab_contracts.sealed)."""

    algorithm: Literal["AES-256-GCM"] = Field(
        description="The authenticated cipher: AES-256-GCM with a 96-bit nonce.",
        examples=["AES-256-GCM"],
    )
    key_id: str = Field(
        pattern=KEY_ID_PATTERN,
        description="Id of the person's data key (the survey registry releases keys by person id).",
        examples=["pdk-3f9a1c0b7d2e4f51"],
    )
    nonce: str = Field(
        pattern=r"^[A-Za-z0-9+/]{16}$",
        description="The 96-bit nonce, fresh for every seal, in standard base64.",
        examples=["AAECAwQFBgcICQoL"],
    )
    ciphertext: str = Field(
        min_length=24,
        max_length=20_000,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="The sealed JSON object plus its 16-byte GCM tag, in standard base64.",
        examples=["c2VhbGVkIHBlcnNvbmFsIGRldGFpbHMgZXhhbXBsZQ=="],
    )


@dataclass(frozen=True, repr=False)
class DataKey:
    """A person's data key: its id and 32 secret bytes (never logged: no repr of the secret)."""

    key_id: str
    secret: bytes

    @classmethod
    def new(cls) -> DataKey:
        return cls(f"pdk-{secrets.token_hex(8)}", AESGCM.generate_key(bit_length=256))

    @classmethod
    def from_text(cls, key_id: str, secret: str) -> DataKey:
        """A key as released over HTTP (the secret in standard base64); ValueError when malformed."""
        try:
            raw = base64.b64decode(secret, validate=True)
        except binascii.Error as error:
            raise ValueError("data key is not base64") from error
        if len(raw) != KEY_BYTES:
            raise ValueError(f"data key must be {KEY_BYTES} bytes, not {len(raw)}")
        return cls(key_id, raw)

    def secret_text(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")

    def __repr__(self) -> str:
        return f"DataKey({self.key_id!r}, <secret>)"


def associated_data(*, person_id: UUID, event_type: str, key_id: str) -> bytes:
    """What the tag authenticates besides the ciphertext: the seal belongs to this person and event."""
    return f"rehab-sealed/1|{event_type}|{person_id}|{key_id}".encode()


def seal(details: BaseModel, key: DataKey, *, person_id: UUID, event_type: str) -> SealedPersonalData:
    """Seal ``details`` (absent fields left out) for ``person_id``'s event of ``event_type``."""
    plaintext = json.dumps(
        details.model_dump(mode="json", exclude_none=True), ensure_ascii=False, sort_keys=True
    ).encode()
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(person_id=person_id, event_type=event_type, key_id=key.key_id)
    sealed = AESGCM(key.secret).encrypt(nonce, plaintext, aad)
    return SealedPersonalData(
        algorithm=ALGORITHM,
        key_id=key.key_id,
        nonce=base64.b64encode(nonce).decode("ascii"),
        ciphertext=base64.b64encode(sealed).decode("ascii"),
    )


def open_sealed(
    sealed: SealedPersonalData,
    key: DataKey,
    *,
    person_id: UUID,
    event_type: str,
    as_model: type[Details],
) -> Details:
    """The details sealed in ``sealed``; raises SealBroken (a ValueError) when they do not open."""
    if sealed.key_id != key.key_id:
        raise SealBroken(f"sealed with data key {sealed.key_id}, not {key.key_id}")
    aad = associated_data(person_id=person_id, event_type=event_type, key_id=key.key_id)
    try:
        nonce = base64.b64decode(sealed.nonce, validate=True)
        plaintext = AESGCM(key.secret).decrypt(nonce, base64.b64decode(sealed.ciphertext, validate=True), aad)
    except (InvalidTag, binascii.Error, ValueError):
        raise SealBroken(
            f"sealed personal data of {event_type} does not open for person {person_id}: "
            "tampered with, or copied from another person or event"
        ) from None
    try:
        return as_model.model_validate_json(plaintext)
    except ValidationError as error:
        raise SealBroken(f"sealed personal data is not a valid {as_model.__name__}: {error}") from None
