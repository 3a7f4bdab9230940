"""The relay encodes a stored event's payload as it was parsed, not as the envelope's JSON dump copies it:
the entry must stay what a consumer recomputes and checks, whatever JSON values the payload holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from rehab_contracts import EventEnvelope

from kernel.messaging.relay import stream_entry
from kernel.messaging.signing import KeyRing, SignatureRejected, sign
from rehab.keys import ensure_keys

STORED_PAYLOADS = [
    '{"amount_fen": 123456789012345678901234567890, "small": -9223372036854775809}',
    '{"ratio": 1e-05, "big": 1e+16, "half": 0.5, "negative_zero": -0.0}',
    '{"street": "鸳鸯街道", "emoji": "\\ud83d\\ude00", "controls": "\\u001f\\n\\t\\"\\\\ \\u2028"}',
    '{"z": 1, "a": {"y": [true, false, null], "b": []}, "é": {}, "E": "x"}',
]


def stored(payload_text: str) -> EventEnvelope:
    """An envelope as the store gives it back: the payload parsed from its stored JSON text."""
    return EventEnvelope(
        event_id=UUID("0193aaaa-0000-7000-8000-0000000000aa"),
        event_type="survey.need_surveyed",
        schema_version=1,
        occurred_at=datetime(2025, 5, 20, 1, 30, 0, 5, tzinfo=UTC),
        recorded_at=datetime(2025, 5, 20, 1, 30, tzinfo=UTC),
        producer="survey",
        stream_id="person-1",
        version=1,
        correlation_id=UUID("0193aaaa-0000-7000-8000-000000000001"),
        payload=json.loads(payload_text),
    )


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    ensure_keys(tmp_path / "keys", ["survey"])
    return KeyRing.from_directory(tmp_path / "keys", "survey")


@pytest.mark.parametrize("payload_text", STORED_PAYLOADS)
def test_an_entry_of_a_stored_payload_is_its_signed_wire_form_and_verifies(
    payload_text: str, keyring: KeyRing
) -> None:
    event = stored(payload_text)
    signing_key = keyring.current_signing_key()
    entry = stream_entry(event, signing_key)
    signed = sign(event, signing_key.key_id, signing_key.key)
    assert {name.decode(): value.decode() for name, value in entry.items()} == signed.to_wire()
    assert keyring.verify(EventEnvelope.from_wire(entry)) == signing_key.key_id


def test_an_entry_whose_payload_was_changed_after_signing_is_refused(keyring: KeyRing) -> None:
    entry = stream_entry(stored(STORED_PAYLOADS[0]), keyring.current_signing_key())
    entry[b"payload"] = entry[b"payload"].replace(b"678901234567890", b"678901234567891")
    with pytest.raises(SignatureRejected, match="does not match"):
        keyring.verify(EventEnvelope.from_wire(entry))
