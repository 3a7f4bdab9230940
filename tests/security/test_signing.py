"""Event signatures: the canonical bytes, what a key ring accepts and why it refuses the rest."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rehab_contracts import EventEnvelope

from kernel.messaging.signing import (
    KeyMaterialError,
    KeyRing,
    PublicKey,
    SignatureRejected,
    SigningKey,
    canonical_bytes,
    sign,
)
from kernel.service_settings import ServiceSettings, load_keyring
from rehab.keys import ensure_keys, revoke, rotate

GOLDEN_KEY_ID = "approval-20250101T000000000000Z-000000"
GOLDEN_CANONICAL = (
    '{"causation_id":null,"correlation_id":"0193aaaa-0000-7000-8000-000000000001",'
    '"event_id":"01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8e","event_type":"approval.application_approved",'
    '"occurred_at":"2025-05-20T09:30:00+08:00","payload":{"amount_fen":100000,'
    '"items":[{"item":"low_vision_training","mode":"free"}],"street":"鸳鸯"},"producer":"approval",'
    '"recorded_at":"2025-05-20T01:30:00.123456Z","schema_version":1,'
    '"stream_id":"application-7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f","version":3}'
)
GOLDEN_SIGNATURE = (
    "ed25519:approval-20250101T000000000000Z-000000:"
    "FMOdqbYBvvb5W1R4MchGrz3+g+eZpl7ArmULaQs2ROSFT0ovu0mwxP/bQu8hDbHnkB6YWHs0k1G3XcCZYZTcDw=="
)


def signing_key_id(keyring: KeyRing) -> str:
    """The id of the key ``keyring`` signs with."""
    assert keyring.signing_key is not None, "the keyring holds no private key"
    return keyring.signing_key.key_id


def signature_of(envelope: EventEnvelope) -> str:
    assert envelope.signature is not None, "the event is unsigned"
    return envelope.signature


def golden_envelope() -> EventEnvelope:
    return EventEnvelope(
        event_id=UUID("01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8e"),
        event_type="approval.application_approved",
        schema_version=1,
        occurred_at=datetime(2025, 5, 20, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        recorded_at=datetime(2025, 5, 20, 1, 30, 0, 123456, tzinfo=UTC),
        producer="approval",
        stream_id="application-7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f",
        version=3,
        correlation_id=UUID("0193aaaa-0000-7000-8000-000000000001"),
        payload={
            "street": "鸳鸯",
            "amount_fen": 100000,
            "items": [{"mode": "free", "item": "low_vision_training"}],
        },
    )


def envelope_of(producer: str, **changes: object) -> EventEnvelope:
    return golden_envelope().model_copy(update={"producer": producer, "event_id": uuid4(), **changes})


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    ensure_keys(directory, ["survey", "approval", "delivery"])
    return directory


def ring(keys: Path, agency: str | None = None) -> KeyRing:
    return KeyRing.from_directory(keys, agency)


def test_the_canonical_bytes_and_the_signature_of_a_fixed_envelope_never_change() -> None:
    golden_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    envelope = golden_envelope()

    assert canonical_bytes(envelope) == GOLDEN_CANONICAL.encode("utf-8")
    assert sign(envelope, GOLDEN_KEY_ID, golden_key).signature == GOLDEN_SIGNATURE


def test_a_key_ring_signs_and_checks_through_libsodium_the_same_golden_signature() -> None:
    golden_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signing = SigningKey(GOLDEN_KEY_ID, "approval", golden_key)
    keyring = KeyRing([PublicKey(GOLDEN_KEY_ID, "approval", golden_key.public_key())], signing)

    signed = keyring.sign(golden_envelope())

    assert signed.signature == GOLDEN_SIGNATURE
    assert keyring.verify(signed) == GOLDEN_KEY_ID


def test_the_canonical_bytes_leave_out_the_signature_and_survive_the_stream_wire_form() -> None:
    signed = golden_envelope().model_copy(update={"signature": GOLDEN_SIGNATURE})
    assert canonical_bytes(signed) == GOLDEN_CANONICAL.encode("utf-8")
    assert canonical_bytes(EventEnvelope.from_wire(signed.to_wire())) == GOLDEN_CANONICAL.encode("utf-8")


def test_an_event_signed_by_its_producer_verifies_and_names_the_key(keys: Path) -> None:
    approval = ring(keys, "approval")
    signed = approval.sign(envelope_of("approval"))

    assert ring(keys).verify(signed) == signing_key_id(approval)
    assert signature_of(signed).startswith(f"ed25519:{signing_key_id(approval)}:")


def forged(keys: Path, forgery: str) -> EventEnvelope:
    """An event claiming producer approval that approval did not sign as it stands."""
    genuine = ring(keys, "approval").sign(envelope_of("approval"))
    if forgery == "unsigned":
        return genuine.model_copy(update={"signature": None})
    if forgery == "malformed":
        return genuine.model_copy(update={"signature": "rsa:whatever"})
    if forgery == "tampered payload":
        return genuine.model_copy(update={"payload": {**genuine.payload, "amount_fen": 9_999_900}})
    if forgery == "tampered envelope":
        return genuine.model_copy(update={"stream_id": "application-someone-else"})
    if forgery == "another agency's key":
        return ring(keys, "survey").sign(envelope_of("approval"))
    if forgery == "truncated":
        return genuine.model_copy(update={"signature": signature_of(genuine)[:-8]})  # 60 bytes
    if forgery == "unknown key":
        stranger = Ed25519PrivateKey.generate()
        return sign(envelope_of("approval"), "approval-20990101T000000000000Z-abcdef", stranger)
    raise AssertionError(forgery)


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("unsigned", "unsigned: events must carry an ed25519 signature"),
        ("malformed", "malformed signature 'rsa:whatever'"),
        ("tampered payload", "does not match the envelope: it was changed after 'approval' signed it"),
        ("tampered envelope", "does not match the envelope"),
        ("truncated", "does not match the envelope"),
        ("another agency's key", "of 'survey', but the event claims producer 'approval'"),
        ("unknown key", "unknown key 'approval-20990101T000000000000Z-abcdef'"),
    ],
)
def test_an_event_its_producer_did_not_sign_is_refused_with_the_reason(
    keys: Path, forgery: str, reason: str
) -> None:
    with pytest.raises(SignatureRejected, match=re.escape(reason)):
        ring(keys, "delivery").verify(forged(keys, forgery))


def test_a_revoked_key_no_longer_verifies_nor_signs(keys: Path) -> None:
    approval = ring(keys, "approval")
    old_key = signing_key_id(approval)
    signed = approval.sign(envelope_of("approval"))
    rotate(keys, "approval")
    revoke(keys, "approval", old_key)

    with pytest.raises(SignatureRejected, match=f"key {old_key} of 'approval', which was revoked"):
        ring(keys).verify(signed)
    assert signature_of(approval.sign(envelope_of("approval"))).split(":")[1] != old_key


def test_after_rotation_new_events_use_the_new_key_and_old_events_still_verify(keys: Path) -> None:
    approval = ring(keys, "approval")
    consumer = ring(keys, "delivery")
    before = approval.sign(envelope_of("approval"))
    new_key = rotate(keys, "approval")
    after = approval.sign(envelope_of("approval"))  # the running signer picks up the rotated key

    assert signature_of(after).startswith(f"ed25519:{new_key}:")
    assert consumer.verify(after) == new_key  # met for the first time: read from the directory
    assert consumer.verify(before) != new_key
    assert ring(keys).verify(before) == signature_of(before).split(":")[1]


def test_private_keys_are_written_readable_by_their_owner_only(keys: Path) -> None:
    private_keys = list(keys.glob("*/*.key"))
    assert len(private_keys) == 3
    assert {oct(path.stat().st_mode & 0o777) for path in private_keys} == {"0o600"}
    assert {oct(path.stat().st_mode & 0o077) for path in keys.glob("*/*.pub")} != {"0o0"}  # public: shared


def test_a_private_key_readable_by_others_is_refused(keys: Path) -> None:
    [private] = list((keys / "approval").glob("*.key"))
    os.chmod(private, 0o644)
    with pytest.raises(KeyMaterialError, match=r"readable by others.*chmod 600"):
        ring(keys, "approval")


def test_a_service_loads_only_its_own_private_key(keys: Path) -> None:
    delivery = ring(keys, "delivery")
    assert delivery.signing_key is not None and delivery.signing_key.agency == "delivery"
    assert {key.agency for key in delivery.public_keys.values()} == {"survey", "approval", "delivery"}


def test_without_keys_configured_a_service_runs_unsigned(tmp_path: Path) -> None:
    assert load_keyring(ServiceSettings(service="survey", var_dir=tmp_path), publishes=True) is None


def test_a_publishing_service_without_its_private_key_refuses_to_start(keys: Path, tmp_path: Path) -> None:
    settings = ServiceSettings(service="assessment", var_dir=tmp_path, keys_dir=keys)
    with pytest.raises(KeyMaterialError, match="rehab keys generate --agency assessment"):
        load_keyring(settings, publishes=True)
    assert load_keyring(settings.model_copy(update={"service": "settlement"}), publishes=False) is not None


def test_production_refuses_to_run_without_keys(tmp_path: Path) -> None:
    settings = ServiceSettings(service="settlement", var_dir=tmp_path, env="production")
    with pytest.raises(KeyMaterialError, match="REHAB_ENV=production needs REHAB_KEYS_DIR"):
        load_keyring(settings, publishes=False)


def test_a_running_consumer_refuses_a_key_revoked_after_it_started(keys: Path) -> None:
    approval, consumer = ring(keys, "approval"), ring(keys, "delivery")
    old_key = signing_key_id(approval)
    signed = approval.sign(envelope_of("approval"))
    assert consumer.verify(signed) == old_key
    rotate(keys, "approval")
    revoke(keys, "approval", old_key)  # appends to approval's revoked file
    with pytest.raises(SignatureRejected, match="which was revoked"):
        consumer.verify(signed)
