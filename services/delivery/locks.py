"""Transaction-scoped locks on a rule's scope, so a check that reads other aggregates holds until commit.

The same as services/approval/locks.py: services share no code but the kernel (docs/adr/0010)."""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from services.eventing.store import UnitOfWork


def scope_key(scope: str) -> int:
    """A stable signed 64-bit key for a scope (the same in every process and release)."""
    digest = hashlib.blake2b(scope.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_scope(unit: UnitOfWork, scope: str) -> None:
    """Wait for, then hold until commit or rollback, the lock on ``scope`` (PostgreSQL advisory lock).

    SQLite needs none: its write transactions begin IMMEDIATE, so writers are serialised already.
    """
    if unit.session.get_bind().dialect.name != "postgresql":
        return
    unit.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": scope_key(scope)})
