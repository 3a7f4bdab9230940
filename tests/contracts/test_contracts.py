"""The contracts keep their promises: snapshots, compatibility, documentation, privacy, wire, immutability."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError
from rehab_contracts import (
    EARLIER_PAYLOAD_CLASSES,
    EVENT_TYPES,
    PAYLOAD_CLASSES,
    STREAM_OF_PRODUCER,
    EventEnvelope,
    EventPayload,
    PersonalDetails,
    PersonalDetailsCorrection,
    PersonDetailsCorrected,
    PersonRegistered,
    UnexpectedProducer,
    UnknownEventType,
    UnsupportedSchemaVersion,
    parse_payload,
    payload_class,
)
from rehab_contracts.compatibility import breaking_changes
from rehab_contracts.examples import example_payload
from rehab_contracts.snapshot import (
    ENVELOPE_SNAPSHOT,
    SCHEMA_DIR,
    BreakingChange,
    current_schemas,
    load_snapshot,
    render,
    write_snapshots,
)

SNAPSHOTS = sorted(current_schemas())
PAYLOAD_IDS = [cls.event_type for cls in PAYLOAD_CLASSES]
STORED_CLASSES = (*PAYLOAD_CLASSES, *EARLIER_PAYLOAD_CLASSES)
STORED_IDS = [f"{cls.event_type}.v{cls.schema_version}" for cls in STORED_CLASSES]
PERSONAL_DETAIL_WORDS = (
    "name",
    "id_number",
    "certificate_number",
    "phone",
    "address",
    "guardian",
    "birth_date",
)
REGENERATE = "run `python -m rehab_contracts.snapshot` and commit the result"


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(model title, property name, property schema) of the root and every nested model."""
    for model in [schema, *schema.get("$defs", {}).values()]:
        for name, prop in model.get("properties", {}).items():
            yield model.get("title", "?"), name, prop


def personal_detail_fields(schema: dict[str, Any]) -> list[str]:
    return [
        f"{owner}.{name}"
        for owner, name, _ in properties(schema)
        if any(word in name for word in PERSONAL_DETAIL_WORDS)
    ]


def nested_models(model: type[BaseModel]) -> set[type[BaseModel]]:
    """Every model class reachable from the field annotations of ``model``, itself included."""
    found = {model}
    for field in model.model_fields.values():
        for candidate in _types_in(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate not in found:
                found |= nested_models(candidate)
    return found


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def envelope_of(payload: EventPayload, **overrides: Any) -> EventEnvelope:
    moment = datetime(2024, 10, 15, 9, 30, tzinfo=UTC)
    fields: dict[str, Any] = {
        "event_id": UUID("01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8e"),
        "event_type": payload.event_type,
        "schema_version": payload.schema_version,
        "occurred_at": moment,
        "recorded_at": moment,
        "producer": payload.producer,
        "stream_id": "person-7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f",
        "version": 1,
        "correlation_id": UUID("01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8f"),
        "payload": payload.model_dump(mode="json"),
    }
    return EventEnvelope(**(fields | overrides))


# (a) snapshots


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_every_committed_snapshot_equals_the_current_schema(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{name} has no snapshot; {REGENERATE}"
    committed = path.read_text(encoding="utf-8")
    current = current_schemas()[name]
    if committed != render(current):
        changes = breaking_changes(json.loads(committed), current) or ["none (compatible change)"]
        pytest.fail(
            f"the schema of {name} differs from its snapshot.\n"
            f"Breaking changes: {'; '.join(changes)}\n"
            "For a breaking change, bump the payload's schema_version (and give old events an upcaster); "
            f"then {REGENERATE}."
        )


def test_every_snapshot_on_disk_belongs_to_a_known_event_type_and_version() -> None:
    for path in SCHEMA_DIR.glob("*.json"):
        if path.name == ENVELOPE_SNAPSHOT:
            continue
        match = re.fullmatch(r"(?P<type>[a-z_.]+)\.v(?P<version>[0-9]+)\.json", path.name)
        assert match, f"{path.name} is not named <event_type>.v<schema_version>.json"
        assert match["type"] in EVENT_TYPES, (
            f"{path.name}: event type removed, but stored events still use it"
        )
        assert int(match["version"]) <= EVENT_TYPES[match["type"]].schema_version


# (b) compatibility with the committed snapshots


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_the_current_schemas_are_backward_compatible_with_their_snapshots(name: str) -> None:
    committed = load_snapshot(name)
    assert committed is not None, f"{name} has no snapshot; {REGENERATE}"
    changes = breaking_changes(committed, current_schemas()[name])
    assert not changes, f"breaking changes in {name}; bump schema_version instead: {changes}"


def test_regenerating_refuses_to_overwrite_a_snapshot_with_a_breaking_change(tmp_path: Path) -> None:
    write_snapshots(tmp_path)
    snapshot = tmp_path / "survey.need_surveyed.v1.json"
    tampered = json.loads(snapshot.read_text(encoding="utf-8"))
    tampered["properties"]["legacy_field"] = {"type": "string", "description": "gone now"}
    snapshot.write_text(render(tampered), encoding="utf-8")

    with pytest.raises(BreakingChange, match=r"legacy_field: property removed"):
        write_snapshots(tmp_path)
    assert json.loads(snapshot.read_text(encoding="utf-8")) == tampered


def test_regenerating_rewrites_only_the_snapshots_that_changed(tmp_path: Path) -> None:
    assert write_snapshots(tmp_path) == SNAPSHOTS
    assert write_snapshots(tmp_path) == []


# (c) documentation


@pytest.mark.parametrize("payload_class", PAYLOAD_CLASSES, ids=PAYLOAD_IDS)
def test_every_field_of_every_payload_has_a_description_and_an_example(
    payload_class: type[EventPayload],
) -> None:
    undocumented = [
        f"{owner}.{name}"
        for owner, name, prop in properties(payload_class.model_json_schema())
        if not prop.get("description") or not prop.get("examples")
    ]
    assert not undocumented, f"fields without description or examples: {undocumented}"


@pytest.mark.parametrize("payload_class", PAYLOAD_CLASSES, ids=PAYLOAD_IDS)
def test_every_payload_names_its_producer_and_is_published_on_the_producers_stream(
    payload_class: type[EventPayload],
) -> None:
    assert f"``{payload_class.producer}``" in (payload_class.__doc__ or "")
    assert STREAM_OF_PRODUCER[payload_class.producer] == payload_class.stream
    assert payload_class.event_type.startswith(f"{payload_class.producer}.")


@pytest.mark.parametrize("payload_class", PAYLOAD_CLASSES, ids=PAYLOAD_IDS)
def test_the_documented_examples_make_a_valid_payload(payload_class: type[EventPayload]) -> None:
    assert isinstance(example_payload(payload_class), payload_class)


# (d) privacy


@pytest.mark.parametrize("payload_class", PAYLOAD_CLASSES, ids=PAYLOAD_IDS)
def test_no_payload_produced_today_carries_personal_details_in_clear(
    payload_class: type[EventPayload],
) -> None:
    found = personal_detail_fields(payload_class.model_json_schema())
    assert not found, f"personal details travel only sealed (rehab_contracts.sealed): {found}"


def test_only_the_v1_registry_events_ever_carried_personal_details_in_clear() -> None:
    assert set(EARLIER_PAYLOAD_CLASSES) == {PersonRegistered, PersonDetailsCorrected}
    assert all(cls.schema_version == 1 for cls in EARLIER_PAYLOAD_CLASSES)


@pytest.mark.parametrize("details", [PersonalDetails, PersonalDetailsCorrection], ids=lambda c: c.__name__)
def test_what_is_sealed_holds_every_identifying_detail(details: type[BaseModel]) -> None:
    assert set(details.model_fields) == {
        "name",
        "ethnicity",
        "birth_date",
        "phone",
        "address",
        "household_registration",
        "residence",
        "id_number",
        "certificate_number",
        "veteran_certificate_number",
        "guardian",
    }


def test_the_personal_detail_check_recognises_names_phones_and_guardians() -> None:
    found = personal_detail_fields(PersonRegistered.model_json_schema())
    assert {
        "PersonRegistered.name",
        "PersonRegistered.phone",
        "PersonRegistered.guardian",
        "Guardian.name",
    } <= set(found)


# (e) wire round trip


@pytest.mark.parametrize("payload_class", STORED_CLASSES, ids=STORED_IDS)
def test_every_event_survives_the_round_trip_through_a_stream_entry(
    payload_class: type[EventPayload],
) -> None:
    payload = example_payload(payload_class)
    envelope = envelope_of(payload)

    as_text = EventEnvelope.from_wire(envelope.to_wire())
    as_bytes = EventEnvelope.from_wire({k.encode(): v.encode() for k, v in envelope.to_wire().items()})

    assert as_text == envelope
    assert as_bytes == envelope
    assert parse_payload(as_text) == payload


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventType, match=r"survey\.person_vanished"):
        payload_class("survey.person_vanished")


def test_a_payload_newer_than_the_known_schema_is_refused() -> None:
    payload = example_payload(PersonRegistered)
    newest = EVENT_TYPES[PersonRegistered.event_type].schema_version
    with pytest.raises(UnsupportedSchemaVersion, match="upgrade rehab-contracts"):
        parse_payload(envelope_of(payload, schema_version=newest + 1))


def test_an_event_is_parsed_in_the_schema_version_it_was_written_in() -> None:
    old = example_payload(PersonRegistered)
    new = example_payload(EVENT_TYPES[PersonRegistered.event_type])
    assert type(parse_payload(envelope_of(old))) is PersonRegistered
    assert type(parse_payload(envelope_of(new))) is EVENT_TYPES["survey.person_registered"]
    with pytest.raises(ValidationError):
        parse_payload(envelope_of(old, schema_version=2))


def test_an_event_from_the_wrong_producer_is_refused() -> None:
    payload = example_payload(PersonRegistered)
    with pytest.raises(UnexpectedProducer):
        parse_payload(envelope_of(payload, producer="delivery"))


def test_a_payload_that_breaks_its_contract_is_refused() -> None:
    envelope = envelope_of(example_payload(PersonRegistered))
    broken = envelope.model_copy(update={"payload": envelope.payload | {"disability_categories": []}})
    with pytest.raises(ValidationError):
        parse_payload(broken)


def test_a_payload_with_an_unknown_field_is_refused() -> None:
    envelope = envelope_of(example_payload(PersonRegistered))
    extended = envelope.model_copy(update={"payload": envelope.payload | {"hobby": "chess"}})
    with pytest.raises(ValidationError):
        parse_payload(extended)


# (f) immutability

ALL_MODELS = sorted(
    set().union(*(nested_models(cls) for cls in STORED_CLASSES))
    | {EventEnvelope, PersonalDetails, PersonalDetailsCorrection},
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda cls: cls.__name__)
def test_every_model_is_frozen_and_forbids_unknown_fields(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("payload_class", STORED_CLASSES, ids=STORED_IDS)
def test_a_payload_cannot_be_changed_after_creation(payload_class: type[EventPayload]) -> None:
    payload = example_payload(payload_class)
    for field in payload_class.model_fields:
        with pytest.raises(ValidationError, match="frozen"):
            setattr(payload, field, None)


def test_every_nested_model_is_found_by_the_frozen_check() -> None:
    names = {cls.__name__ for cls in ALL_MODELS}
    assert {
        "Guardian",
        "RequestedItem",
        "ItemApproval",
        "ItemRejection",
        "Signatories",
        "SealedPersonalData",
    } <= names
