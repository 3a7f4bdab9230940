"""A service's projection that a store older than it lacks, built from the events once (docs/adr/0010)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select

from kernel.store.store import UnitOfWork


def is_built(unit: UnitOfWork, builds: Table, projection: str) -> bool:
    """Whether ``builds`` (columns ``projection``, ``built_at``) records the projection as built."""
    column = builds.c.projection
    return unit.session.scalar(select(column).where(column == projection)) is not None


def build_once(unit: UnitOfWork, builds: Table, projection: str, build: Callable[[], None]) -> None:
    """Run ``build`` (empty the projection, fill it from the events) unless it ran before, under a lock
    so that one of two concurrent transactions builds it; later calls read one row."""
    if is_built(unit, builds, projection):
        return
    unit.lock(f"rebuild:{projection}")
    if is_built(unit, builds, projection):  # another transaction built it while this one waited for the lock
        return
    build()
    unit.session.execute(insert(builds).values(projection=projection, built_at=datetime.now(UTC)))
