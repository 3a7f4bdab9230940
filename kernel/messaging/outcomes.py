"""What becomes of a consumed event: applied, a duplicate, parked, never applicable (dead-lettered), or
not applied *yet* because the infrastructure failed (retried without spending the delivery budget)."""

from __future__ import annotations

import enum

from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kernel.store.sqlite import StoreBusy


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


INFRASTRUCTURE_FAILURES: tuple[type[BaseException], ...] = (
    OperationalError,  # SQLite: database or disk is full, database is locked, disk I/O; PostgreSQL down
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    StoreBusy,  # the database stayed locked past the busy timeout
    OSError,  # ENOSPC, EIO, a connection refused
    RedisConnectionError,
    RedisTimeoutError,
)
"""Failures of the machinery, not of the event: the same delivery will succeed once the disk, the
database or the network is back, so they are retried with back-off and never spend the delivery
budget (issue 14: a disk full for a minute dead-lettered good events)."""


def is_infrastructure_failure(error: BaseException) -> bool:
    """True when delivering the event again later can succeed unchanged."""
    if isinstance(error, INFRASTRUCTURE_FAILURES):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def describe(error: BaseException) -> str:
    """The reason kept with a dead letter."""
    return f"{type(error).__name__}: {error}"[:2000]
