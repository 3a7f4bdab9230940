"""Failures of the machinery, not of the event: disk full, a database locked or down, the network.

Delivering the same entry again succeeds once the machinery is back, so such a failure is waited
out with back-off and never spends the entry's delivery budget (issue 14: settlement's disk full for
a minute dead-lettered 41 good events after 5 deliveries). Only a decision of the domain, a bad entry,
or a failure of another kind repeated ``max_deliveries`` times dead-letters an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kernel.store.sqlite import StoreBusy
from kernel.store.unavailable import is_not_migrated, is_unavailable

DEFAULT_BACKOFF_SECONDS = 0.5
MOST_BACKOFF_SECONDS = 30.0
REMEMBERED_ENTRIES = 100_000
"""Entries whose infrastructure failures are remembered at most (others may have been claimed since)."""

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
"""What :func:`is_infrastructure_failure` recognises by its class; it also asks
``kernel.store.unavailable`` (a read-only PostgreSQL's InternalError, a store not migrated yet)."""


def is_infrastructure_failure(error: BaseException) -> bool:
    """True when delivering the event again later can succeed unchanged: the database is down, locked,
    read-only (a standby after a failover, ``default_transaction_read_only``), or its schema not migrated
    yet (``/health`` says ``schema.behind`` meanwhile); Redis is out of reach."""
    if isinstance(error, INFRASTRUCTURE_FAILURES):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return is_unavailable(error) or is_not_migrated(error)


@dataclass
class Backoff:
    """How long the consumer waits after an infrastructure failure: doubling, reset by a success."""

    first: float = DEFAULT_BACKOFF_SECONDS
    most: float = MOST_BACKOFF_SECONDS
    seconds: float = 0.0
    failures: int = 0
    """Infrastructure failures in a row (0: the store works)."""

    def failed(self) -> float:
        self.failures += 1
        self.seconds = min(self.most, self.seconds * 2 if self.seconds else self.first)
        return self.seconds

    def succeeded(self) -> None:
        self.failures, self.seconds = 0, 0.0


class InfrastructureFailures:
    """One consumer process's account of infrastructure failures: the back-off, and per pending entry
    how many of its deliveries failed on the infrastructure (Redis counts every delivery)."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self._deliveries: dict[tuple[str, str], int] = {}

    def failed(self, stream: str, entry_id: str) -> float:
        """Count a delivery that failed on the infrastructure; returns how long to wait now."""
        if len(self._deliveries) > REMEMBERED_ENTRIES:
            self._deliveries.clear()
        key = (stream, entry_id)
        self._deliveries[key] = self._deliveries.get(key, 0) + 1
        return self.backoff.failed()

    def failed_together(self, stream: str, entry_ids: list[str]) -> float:
        """Count one failed delivery of each of a batch's entries and back off once; how long to wait."""
        if len(self._deliveries) > REMEMBERED_ENTRIES:
            self._deliveries.clear()
        for entry_id in entry_ids:
            key = (stream, entry_id)
            self._deliveries[key] = self._deliveries.get(key, 0) + 1
        return self.backoff.failed()

    def budget_spent(self, stream: str, entry_id: str, deliveries: int) -> int:
        """The deliveries that count against the budget: those not failed on the infrastructure."""
        return deliveries - self._deliveries.get((stream, entry_id), 0)

    def settled(self, stream: str, entry_id: str, *, succeeded: bool = False) -> None:
        """The entry is done with (handled or dead-lettered); a success also ends the back-off."""
        self._deliveries.pop((stream, entry_id), None)
        if succeeded:
            self.backoff.succeeded()
