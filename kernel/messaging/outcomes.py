"""What becomes of a consumed event: applied, a duplicate, parked, or never applicable (dead-lettered)."""

from __future__ import annotations

import enum

from pydantic import ValidationError


class Receipt(enum.Enum):
    """What became of one delivered event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    PARKED = "parked"
    """Early for its aggregate: kept until its predecessor is applied."""


class EventRejected(Exception):
    """A consumed event is well-formed but cannot be applied (a rule of the consumer says no)."""


class EventConflict(EventRejected):
    """The event contradicts what was applied: same event id with other content, or a version taken."""


CANNOT_APPLY: tuple[type[Exception], ...] = (ValueError, ValidationError, EventRejected)
"""Undecodable, breaks its contract, unknown type, future schema version, rejected, conflicting.

Delivering such an event again cannot help, so it is dead-lettered on its first delivery.
"""


def describe(error: BaseException) -> str:
    """The reason kept with a dead letter."""
    return f"{type(error).__name__}: {error}"[:2000]
