"""The routing table from stable event type names to payload classes, and payload parsing."""

from __future__ import annotations

from collections.abc import Iterable

from rehab_contracts.envelope import EventEnvelope, EventPayload
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationAttachmentsAdded,
    ApplicationRejected,
    ApplicationReviewed,
    ApplicationSubmitted,
    AssessmentCompleted,
    InstitutionChangeApproved,
    NeedSurveyed,
    PersonDetailsCorrected,
    PersonDetailsCorrectedV2,
    PersonForgotten,
    PersonRegistered,
    PersonRegisteredV2,
    ReferralIssued,
    ServiceDelivered,
)

PAYLOAD_CLASSES: tuple[type[EventPayload], ...] = (
    PersonRegisteredV2,
    PersonDetailsCorrectedV2,
    NeedSurveyed,
    PersonForgotten,
    AssessmentCompleted,
    ReferralIssued,
    ApplicationSubmitted,
    ApplicationAttachmentsAdded,
    ApplicationReviewed,
    ApplicationApproved,
    ApplicationRejected,
    InstitutionChangeApproved,
    ServiceDelivered,
)
"""Every payload class in its newest schema version, in workflow order."""

EARLIER_PAYLOAD_CLASSES: tuple[type[EventPayload], ...] = (PersonRegistered, PersonDetailsCorrected)
"""Older schema versions no longer produced but still stored (v1: personal details in clear)."""


class UnknownEventType(ValueError):
    """The event type is not one of the contracts (a typo, or a consumer older than its producer)."""


class UnsupportedSchemaVersion(ValueError):
    """The event was written with a newer payload schema than this copy of the contracts knows."""


class UnexpectedProducer(ValueError):
    """The envelope names a producer other than the only agency allowed to emit the event type."""


def _by_type(classes: Iterable[type[EventPayload]]) -> dict[str, type[EventPayload]]:
    table: dict[str, type[EventPayload]] = {}
    for payload_class in classes:
        if payload_class.event_type in table:
            raise RuntimeError(f"event type {payload_class.event_type!r} is declared twice")
        table[payload_class.event_type] = payload_class
    return table


EVENT_TYPES: dict[str, type[EventPayload]] = _by_type(PAYLOAD_CLASSES)
"""Payload class of each event type name (its newest schema version)."""

_BY_VERSION: dict[tuple[str, int], type[EventPayload]] = {
    (cls.event_type, cls.schema_version): cls for cls in (*PAYLOAD_CLASSES, *EARLIER_PAYLOAD_CLASSES)
}


def payload_class(event_type: str) -> type[EventPayload]:
    """The payload class of ``event_type``; raises UnknownEventType when there is none."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        known = ", ".join(sorted(EVENT_TYPES))
        raise UnknownEventType(f"unknown event type {event_type!r}; known types: {known}") from None


def parse_payload(envelope: EventEnvelope) -> EventPayload:
    """Validate the envelope's payload as its event type, in the schema version it was written in.

    Raises UnknownEventType, UnsupportedSchemaVersion, UnexpectedProducer, or pydantic's
    ValidationError (also a ValueError) when the payload breaks its contract.
    """
    cls = payload_class(envelope.event_type)
    if envelope.schema_version > cls.schema_version:
        raise UnsupportedSchemaVersion(
            f"{envelope.event_type} v{envelope.schema_version} is newer than the known "
            f"v{cls.schema_version}; upgrade rehab-contracts"
        )
    if envelope.producer != cls.producer:
        raise UnexpectedProducer(
            f"{envelope.event_type} is produced by {cls.producer!r}, not {envelope.producer!r}"
        )
    return _BY_VERSION.get((cls.event_type, envelope.schema_version), cls).model_validate(envelope.payload)
