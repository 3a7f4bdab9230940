"""Sealed personal data opens only with the person's key, for that person and that event type."""

from __future__ import annotations

import base64
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel
from rehab_contracts import PersonalDetails, PersonRegisteredV2
from rehab_contracts.examples import example_payload
from rehab_contracts.sealed import DataKey, SealBroken, SealedPersonalData, open_sealed, seal

REGISTERED = PersonRegisteredV2.event_type


def sealed_for(person: UUID, key: DataKey, details: BaseModel | None = None) -> SealedPersonalData:
    return seal(details or example_payload(PersonalDetails), key, person_id=person, event_type=REGISTERED)


def test_sealed_details_open_with_the_persons_key_and_read_back_the_same() -> None:
    person, key = uuid4(), DataKey.new()
    details = example_payload(PersonalDetails)

    sealed = sealed_for(person, key, details)
    opened = open_sealed(sealed, key, person_id=person, event_type=REGISTERED, as_model=PersonalDetails)

    assert opened == details
    assert details.name not in sealed.model_dump_json()
    assert details.id_number not in sealed.model_dump_json()


def test_every_seal_uses_a_fresh_nonce() -> None:
    person, key = uuid4(), DataKey.new()
    first, second = sealed_for(person, key), sealed_for(person, key)
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_a_tampered_ciphertext_does_not_open() -> None:
    person, key = uuid4(), DataKey.new()
    sealed = sealed_for(person, key)
    raw = bytearray(base64.b64decode(sealed.ciphertext))
    raw[3] ^= 0x01
    tampered = sealed.model_copy(update={"ciphertext": base64.b64encode(bytes(raw)).decode()})

    with pytest.raises(SealBroken, match="tampered with, or copied from another person"):
        open_sealed(tampered, key, person_id=person, event_type=REGISTERED, as_model=PersonalDetails)


def test_a_seal_moved_to_another_person_does_not_open_even_with_the_right_key() -> None:
    person, other, key = uuid4(), uuid4(), DataKey.new()
    sealed = sealed_for(person, key)

    with pytest.raises(SealBroken, match=str(other)):
        open_sealed(sealed, key, person_id=other, event_type=REGISTERED, as_model=PersonalDetails)


def test_a_seal_moved_to_another_event_type_does_not_open() -> None:
    person, key = uuid4(), DataKey.new()
    sealed = sealed_for(person, key)

    with pytest.raises(SealBroken):
        open_sealed(
            sealed,
            key,
            person_id=person,
            event_type="survey.person_details_corrected",
            as_model=PersonalDetails,
        )


def test_another_persons_key_does_not_open_a_seal() -> None:
    person = uuid4()
    sealed = sealed_for(person, DataKey.new())
    stranger = DataKey(sealed.key_id, DataKey.new().secret)

    with pytest.raises(SealBroken):
        open_sealed(sealed, stranger, person_id=person, event_type=REGISTERED, as_model=PersonalDetails)
    with pytest.raises(SealBroken, match="sealed with data key"):
        open_sealed(sealed, DataKey.new(), person_id=person, event_type=REGISTERED, as_model=PersonalDetails)


def test_a_released_key_round_trips_through_its_text_form_and_never_shows_its_secret() -> None:
    key = DataKey.new()
    assert DataKey.from_text(key.key_id, key.secret_text()) == key
    assert key.secret_text() not in repr(key)
    with pytest.raises(ValueError, match="32 bytes"):
        DataKey.from_text(key.key_id, base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="not base64"):
        DataKey.from_text(key.key_id, "not base64!")
