"""Identifiers: time-ordered UUIDv7 for events, random UUIDv4 for persons and other aggregates."""

from uuid import UUID, uuid4

from uuid6 import uuid7


def new_event_id() -> UUID:
    """A time-ordered event id (UUIDv7), so ids sort roughly by creation time."""
    return UUID(str(uuid7()))


def new_aggregate_id() -> UUID:
    """A random id with no information in it: persons are never identified by ID numbers."""
    return uuid4()
