"""Stable keys for PostgreSQL advisory locks: the same scope gives the same key in every process."""

from __future__ import annotations

import hashlib


def scope_key(scope: str) -> int:
    """A stable signed 64-bit key for a lock's scope (the same in every process and release)."""
    digest = hashlib.blake2b(scope.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
