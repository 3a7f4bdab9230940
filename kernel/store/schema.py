"""A store's schema is its Alembic migrations (docs/adr/0018-schema-migrations.md), applied at start-up.

The migrations live in ``migrations/``: one environment, a branch with its own base for the kernel's
tables (``kernel``) and one for each service's own, labelled with the service's name. A store holds
the kernel's branch and, when it has one, its service's. :func:`upgrade` applies what is missing in
one transaction that first takes the schema lock, so two instances starting together on an empty
database take turns: the first migrates, the second finds nothing to do. :func:`pending` says what
the code expects that the database lacks (``/health`` is not ready then).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from kernel.store.locks import scope_key

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
"""The Alembic environment, next to the ``kernel`` package (in the repository and once installed)."""

KERNEL_BRANCH = "kernel"
VERSION_TABLE = "alembic_version"
SCHEMA_LOCK = "rehab:schema"


def _config() -> Config:
    """A configuration of its own for each use: an upgrade hands its connection over in it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    folders = (MIGRATIONS / "versions").iterdir()
    locations = sorted(str(folder) for folder in folders if folder.is_dir() and folder.name[0].isalpha())
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    return config


@cache
def scripts() -> ScriptDirectory:
    """The migrations, read once per process."""
    return ScriptDirectory.from_config(_config())


@cache
def _revisions() -> dict[str, frozenset[str]]:
    """Every revision id, and every branch label, of the migrations."""
    every = list(scripts().walk_revisions())
    labels = {label for revision in every for label in revision.branch_labels}
    return {"ids": frozenset(revision.revision for revision in every), "labels": frozenset(labels)}


def branches_of(service: str | None) -> list[str]:
    """The branches a store holds: the kernel's, and the service's own when it has migrations."""
    if service is not None and service in _revisions()["labels"]:
        return [KERNEL_BRANCH, service]
    return [KERNEL_BRANCH]


def hold_schema_lock(connection: Connection) -> None:
    """Hold the schema lock until the connection's transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite lets one writer in at a time: the store's
    engine begins its write transactions IMMEDIATE, so the transaction holds the lock from its start.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": scope_key(SCHEMA_LOCK)})


def upgrade(engine: Engine, branches: Sequence[str], declared: MetaData | None = None) -> None:
    """Apply the migrations of ``branches`` that the database lacks, in one transaction under the lock.

    ``declared``: tables the code declares beside the migrated ones (a test's, a tool's), created after
    the migrations if missing, in the same transaction. A service's table that has no migration yet is
    created this way too, and tests/kernel/test_migrations.py fails until it has one.
    """
    with engine.begin() as connection:
        hold_schema_lock(connection)
        missing = _pending_on(connection, branches)
        if missing:
            log.info("migrating %s: %s", engine.url.render_as_string(hide_password=True), ", ".join(missing))
            _apply(connection, branches)
        if declared is not None:
            declared.create_all(connection)


def _apply(connection: Connection, branches: Sequence[str]) -> None:
    config = _config()
    config.attributes["connection"] = connection  # env.py migrates in this transaction, under the lock
    for branch in branches:
        command.upgrade(config, f"{branch}@head")


def pending(engine: Engine, branches: Sequence[str]) -> list[str]:
    """The revisions of ``branches`` the database lacks, oldest first (empty: the schema is current)."""
    with engine.connect() as connection:
        return _pending_on(connection, branches)


def _applied(connection: Connection) -> set[str]:
    """The revisions in the database's version table (read directly: ``/health`` asks on every call, and
    Alembic's MigrationContext logs two lines each time)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def _pending_on(connection: Connection, branches: Sequence[str]) -> list[str]:
    applied = _applied(connection)
    script = scripts()
    known = tuple(revision for revision in applied if revision in _revisions()["ids"])  # else: newer code's
    done = {revision.revision for revision in script.iterate_revisions(known, "base")} if known else set()
    missing: list[str] = []
    for branch in branches:
        wanted = script.iterate_revisions(f"{branch}@head", "base")
        missing.extend(reversed([revision.revision for revision in wanted if revision.revision not in done]))
    return missing
