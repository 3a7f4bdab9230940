"""The registry's per-person data keys (table ``person_keys``): minted at registration, destroyed on forget.

A key lives only here (and, for a while, in the memory of agencies it was released to). Destroying it
overwrites the secret and deletes the row in the caller's transaction, so the person's sealed details
in every copy of every event become unreadable. On SQLite the table is written with ``secure_delete``
(freed space zeroed) and, after the forget commits, the write-ahead log is checkpointed and truncated,
so the key's bytes are left in no file (issue 14, defect 2). Where the database keeps what a statement
cannot reach (PostgreSQL's WAL, archives, backups), ``REHAB_PERSON_KEK_DIR`` has the keys stored wrapped
under a key-encryption key that every forget rotates (services/survey/key_wrapping.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from rehab_contracts.sealed import KEY_BYTES, DataKey
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from services.survey import key_wrapping
from services.survey.key_wrapping import KekStore
from services.survey.projection import tables

log = logging.getLogger(__name__)

person_keys_table = Table(
    "person_keys",
    tables,
    Column("person_id", String(36), primary_key=True),
    Column("key_id", String(40), nullable=False, unique=True),
    Column("key", LargeBinary(KEY_BYTES), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True)),
)


_INSERT_KEY = insert(person_keys_table)
_LIVE_KEY = select(person_keys_table.c.key_id, person_keys_table.c.key).where(
    person_keys_table.c.person_id == bindparam("person_id"), person_keys_table.c.destroyed_at.is_(None)
)
"""Cached statements with their values as parameters: a registration compiles nothing."""
_SECURE_DELETE = "rehab_secure_delete"
"""Marks (in ``Connection.info``) a connection whose SQLite ``secure_delete`` is on already."""


def check_key_wrapping(database_url: str | None) -> KekStore | None:
    """At start: a wrong ``REHAB_PERSON_KEK_*`` setting stops it; a PostgreSQL registry without wrapping
    is told that a forgotten key outlives the forget in its WAL and backups."""
    store = KekStore.configured()
    if store is None and (database_url or "").startswith("postgresql"):
        log.warning(
            "REHAB_PERSON_KEK_DIR is unset: PostgreSQL keeps a forgotten person's data key in its WAL, "
            "archives and backups (docs/security.md, 'What forgetting erases on disk')"
        )
    return store


def create_key(session: Session, person_id: UUID) -> DataKey:
    """Mint and store the data key of a newly registered person."""
    key = DataKey.new()
    _zero_freed_space(session)  # a page split moves keys: the space they leave is zeroed too
    stored = _stored_form(session)(str(person_id), key.secret)
    row = {"person_id": str(person_id), "key_id": key.key_id, "key": stored, "created_at": datetime.now(UTC)}
    session.connection().execute(_INSERT_KEY, row)
    return key


def create_keys(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, DataKey]:
    """``create_key`` for many newly registered persons (the sheet import): one INSERT of many rows."""
    keys = {person_id: DataKey.new() for person_id in person_ids}
    if keys:
        _zero_freed_space(session)
        now = datetime.now(UTC)
        stored = _stored_form(session)
        session.execute(
            insert(person_keys_table),
            [
                {
                    "person_id": str(person_id),
                    "key_id": key.key_id,
                    "key": stored(str(person_id), key.secret),
                    "created_at": now,
                }
                for person_id, key in keys.items()
            ],
        )
    return keys


def keys_of(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, DataKey]:
    """``key_of`` for many persons at once (one query); a person without a live key is left out."""
    rows = session.execute(
        select(person_keys_table.c.person_id, person_keys_table.c.key_id, person_keys_table.c.key).where(
            person_keys_table.c.person_id.in_([str(person_id) for person_id in person_ids]),
            person_keys_table.c.destroyed_at.is_(None),
        )
    )
    store = KekStore.configured()
    found = {
        UUID(row.person_id): DataKey(row.key_id, key_wrapping.unwrap(store, row.person_id, bytes(row.key)))
        for row in rows
    }
    _destroy_expired_keks(session, store)
    return found


def key_of(session: Session, person_id: UUID) -> DataKey | None:
    """The person's data key; None when it was destroyed or the person predates sealing (schema v1)."""
    row = session.connection().execute(_LIVE_KEY, {"person_id": str(person_id)}).first()
    store = KekStore.configured()
    _destroy_expired_keks(session, store)
    if row is None:
        return None
    return DataKey(row.key_id, key_wrapping.unwrap(store, str(person_id), bytes(row.key)))


def destroy_key(session: Session, person_id: UUID) -> str | None:
    """Overwrite the person's key, then delete its row; returns the destroyed key id (None: had none)."""
    row = session.execute(
        select(person_keys_table.c.key_id).where(person_keys_table.c.person_id == str(person_id))
    ).first()
    if row is None:
        return None
    _zero_freed_space(session)
    where = person_keys_table.c.person_id == str(person_id)
    session.execute(
        update(person_keys_table).where(where).values(key=bytes(KEY_BYTES), destroyed_at=datetime.now(UTC))
    )
    session.execute(delete(person_keys_table).where(where))
    return str(row.key_id)


def erase_from_log(engine: Engine) -> bool:
    """After a forget commits: copy SQLite's write-ahead log into the database and cut it to zero bytes.

    The log's frames still hold the key's page as it was before the forget, and SQLite reuses the log
    from its start without clearing it, so only a checkpoint with TRUNCATE leaves the key in no file.
    It waits (the busy timeout) for readers of an older snapshot; False when one outlasted it (the key then
    stays in the log until the next forget truncates it). A no-op on other databases. First, with
    ``REHAB_PERSON_KEK_DIR``, the key-encryption key rotates (``rotate_key_encryption``).
    """
    rotate_key_encryption(engine)
    if engine.dialect.name != "sqlite":
        return True
    connection = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        busy, _log_frames, _copied = connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        log.warning("write-ahead log not truncated after a forget: a reader held it past the busy timeout")
    return not busy


ROTATION_LOCK = 0x72656861  # "reha": PostgreSQL advisory lock of the registry's key wrapping
"""Taken shared by whoever wraps a new key, exclusively by a rotation: a key is never wrapped under a KEK
that a rotation running at the same time would retire without re-wrapping it (SQLite's write lock, taken
at BEGIN IMMEDIATE, orders them the same way)."""


def rotate_key_encryption(engine: Engine) -> str | None:
    """After a forget: wrap every live key under a new KEK, retire the others, and destroy the retired
    ones past their retention that no row uses any more; the new KEK's id (None: wrapping is off)."""
    store = KekStore.configured()
    if store is None:
        return None
    kek_id, kek = store.create()
    _rewrap(engine, store, kek_id, kek)
    store.retire_all_but(kek_id)
    expired = store.expired()
    if expired:
        _rewrap(engine, store, kek_id, kek)  # a key wrapped under a retired KEK since: moved before it goes
        for old in expired:
            store.destroy(old)
        log.info("key-encryption keys destroyed: %s", ", ".join(expired))
    return kek_id


def _destroy_expired_keks(session: Session, store: KekStore | None) -> None:
    """Retired KEKs past their retention go at the next key read, not only at the next forget, so the
    retention bounds how long a backup can open a forgotten key even when no one is forgotten after."""
    expired = store.expired() if store is not None else []
    if not expired or store is None:
        return
    in_use = {
        key_wrapping.kek_of(bytes(stored))
        for stored in session.scalars(
            select(person_keys_table.c.key).where(person_keys_table.c.destroyed_at.is_(None))
        )
    }
    for old in expired:
        if old not in in_use:  # one still in use is moved by the next rotation first
            store.destroy(old)
            log.info("key-encryption key %s destroyed: retired past its retention", old)


def _rewrap(engine: Engine, store: KekStore, kek_id: str, kek: bytes) -> None:
    """Every live key not under ``kek_id``, unwrapped and wrapped under it, in one transaction."""
    with Session(engine) as session, session.begin():
        _zero_freed_space(session)
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": ROTATION_LOCK})
        rows = session.execute(
            select(person_keys_table.c.person_id, person_keys_table.c.key).where(
                person_keys_table.c.destroyed_at.is_(None)
            )
        ).all()
        for row in rows:
            stored = bytes(row.key)
            if key_wrapping.kek_of(stored) == kek_id:
                continue
            secret = key_wrapping.unwrap(store, row.person_id, stored)
            session.execute(
                update(person_keys_table)
                .where(person_keys_table.c.person_id == row.person_id)
                .values(key=key_wrapping.wrap(kek_id, kek, row.person_id, secret))
            )


def _stored_form(session: Session) -> Callable[[str, bytes], bytes]:
    """How a new key is stored: wrapped under the current KEK when ``REHAB_PERSON_KEK_DIR`` is set."""
    store = KekStore.configured()
    if store is None:
        return lambda _person_id, secret: secret
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:lock)"), {"lock": ROTATION_LOCK})
    kek_id, kek = store.current()
    return lambda person_id, secret: key_wrapping.wrap(kek_id, kek, person_id, secret)


def _zero_freed_space(session: Session) -> None:
    """SQLite keeps deleted and moved content in free space unless told to zero it (per connection: told
    once, on the connection's first key write; it stays on for as long as the connection lives)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.info.get(_SECURE_DELETE):
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
        connection.info[_SECURE_DELETE] = True
