"""The registry's per-person data keys (table ``person_keys``): minted at registration, destroyed on forget.

A key lives only here (and, for a while, in the memory of agencies it was released to). Destroying it
overwrites the secret and deletes the row in the caller's transaction, so the person's sealed details
in every copy of every event become unreadable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from rehab_contracts.sealed import KEY_BYTES, DataKey
from sqlalchemy import Column, DateTime, LargeBinary, String, Table, delete, insert, select, text, update
from sqlalchemy.orm import Session

from services.survey.projection import tables

person_keys_table = Table(
    "person_keys",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("key_id", String(40), nullable=False, unique=True),
    Column("key", LargeBinary(KEY_BYTES), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True)),
)


def create_key(session: Session, person_id: UUID) -> DataKey:
    """Mint and store the data key of a newly registered person."""
    key = DataKey.new()
    session.execute(
        insert(person_keys_table).values(
            person_id=str(person_id), key_id=key.key_id, key=key.secret, created_at=datetime.now(UTC)
        )
    )
    return key


def key_of(session: Session, person_id: UUID) -> DataKey | None:
    """The person's data key; None when it was destroyed or the person predates sealing (schema v1)."""
    row = session.execute(
        select(person_keys_table.c.key_id, person_keys_table.c.key).where(
            person_keys_table.c.person_id == str(person_id), person_keys_table.c.destroyed_at.is_(None)
        )
    ).first()
    return None if row is None else DataKey(row.key_id, bytes(row.key))


def destroy_key(session: Session, person_id: UUID) -> str | None:
    """Overwrite the person's key, then delete its row; returns the destroyed key id (None: had none)."""
    row = session.execute(
        select(person_keys_table.c.key_id).where(person_keys_table.c.person_id == str(person_id))
    ).first()
    if row is None:
        return None
    if session.get_bind().dialect.name == "sqlite":
        # Deleted content stays in free pages unless SQLite zeroes it; the WAL and backups are the
        # operator's to expire (docs/adr/0007-personal-data-encryption.md).
        session.execute(text("PRAGMA secure_delete = ON"))
    where = person_keys_table.c.person_id == str(person_id)
    session.execute(
        update(person_keys_table).where(where).values(key=bytes(KEY_BYTES), destroyed_at=datetime.now(UTC))
    )
    session.execute(delete(person_keys_table).where(where))
    return str(row.key_id)
