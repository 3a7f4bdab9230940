"""``INSERT … ON CONFLICT (key) DO NOTHING``: a row written once, however many deliveries race to write it.

PostgreSQL's syntax, which SQLite shares. A concurrent writer of the same key on PostgreSQL waits for the
other transaction: if it commits, nothing is inserted; if it rolls back, this insert goes ahead.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert, Table, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


@cache
def insert_once(dialect: str, table: Table, key: str) -> Insert:
    """The cached statement for ``table`` on ``dialect``; RETURNING its primary key, no row when the
    ``key`` was there (another dialect: a plain insert, which raises on a duplicate)."""
    returned = list(table.primary_key.columns)
    if dialect == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing(index_elements=[key]).returning(*returned)
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=[key]).returning(*returned)
    return insert(table).returning(*returned)
