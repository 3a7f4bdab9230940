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
from dataclasses import dataclass
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


class SchemaAhead(RuntimeError):
    """The database is ahead of the code on one branch and behind it on another: Alembic cannot apply the
    revisions the code lacks past a revision it does not know, so the instance does not start."""

    def __init__(self, missing: Sequence[str], ahead: Sequence[str]) -> None:
        super().__init__(
            f"数据库结构无法迁移：本版本缺少的迁移 {'、'.join(missing)} 无法执行，因为数据库已由更新的版本"
            f"迁移到本版本不认识的 {'、'.join(ahead)}；请用更新的版本启动（它会补齐这些迁移），"
            "或用更新版本的 alembic 执行 upgrade"
        )
        self.missing = list(missing)
        self.ahead = list(ahead)


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the code's migrations."""

    missing: list[str]
    """The revisions of the code's branches the database lacks, oldest first."""
    ahead: list[str]
    """Revisions the database holds that the code does not know: a newer release migrated it."""


def upgrade(engine: Engine, branches: Sequence[str], declared: MetaData | None = None) -> None:
    """Apply the migrations of ``branches`` that the database lacks, in one transaction under the lock.

    A branch a newer release moved past the code's head is left as it is (never downgraded), and the
    instance runs on it (migrations stay backward compatible for one release, ADR 0018); a branch behind
    next to one ahead cannot be migrated by Alembic, which refuses a revision it does not know:
    :class:`SchemaAhead`.

    ``declared``: tables the code declares beside the migrated ones (a test's, a tool's), created after
    the migrations if missing, in the same transaction. A service's table that has no migration yet is
    created this way too, and tests/kernel/test_migrations.py fails until it has one.
    """
    with engine.begin() as connection:
        hold_schema_lock(connection)
        state = state_on(connection, branches)
        where = engine.url.render_as_string(hide_password=True)
        if state.ahead:
            log.info(
                "%s is ahead of the code (a newer release migrated it): %s", where, ", ".join(state.ahead)
            )
        if state.missing and state.ahead:
            raise SchemaAhead(state.missing, state.ahead)
        if state.missing:
            log.info("migrating %s: %s", where, ", ".join(state.missing))
            _apply(connection, branches)
        if declared is not None:
            declared.create_all(connection)


def _apply(connection: Connection, branches: Sequence[str]) -> None:
    config = _config()
    config.attributes["connection"] = connection  # env.py migrates in this transaction, under the lock
    for branch in branches:
        command.upgrade(config, f"{branch}@head")


def pending(engine: Engine, branches: Sequence[str]) -> list[str]:
    """The revisions of ``branches`` the database lacks, oldest first (empty: the schema is current, or
    ahead of the code on a branch a newer release migrated)."""
    with engine.connect() as connection:
        return state_on(connection, branches).missing


def _applied(connection: Connection) -> set[str]:
    """The revisions in the database's version table (read directly: ``/health`` asks on every call, and
    Alembic's MigrationContext logs two lines each time)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def state_on(connection: Connection, branches: Sequence[str]) -> SchemaState:
    """What the database lacks of ``branches``, and what it holds that the code does not know.

    The version table holds one row per branch head. A row the code does not know is a newer release's
    revision: the branch it belongs to (named by its id's prefix, ``survey_0004``, else the branch that has
    no row the code knows) is ahead of the code, not missing.
    """
    applied = _applied(connection)
    script = scripts()
    known = tuple(revision for revision in applied if revision in _revisions()["ids"])
    unknown = sorted(applied.difference(known))
    done = {revision.revision for revision in script.iterate_revisions(known, "base")} if known else set()
    rows = {branch: _revisions_of(branch) for branch in branches}
    without_a_known_row = [branch for branch in branches if not done.intersection(rows[branch])]
    ahead = _ahead(unknown, without_a_known_row)
    missing: list[str] = []
    for branch in branches:
        if branch not in ahead:
            missing.extend(reversed([revision for revision in rows[branch] if revision not in done]))
    return SchemaState(missing=missing, ahead=unknown)


def _revisions_of(branch: str) -> list[str]:
    """The branch's revisions, newest first."""
    return [revision.revision for revision in scripts().iterate_revisions(f"{branch}@head", "base")]


def _ahead(unknown: Sequence[str], candidates: Sequence[str]) -> set[str]:
    """The branches among ``candidates`` (those without a row the code knows) that an unknown revision
    moved ahead: by its id's prefix; the revisions no branch's prefix names, one per remaining branch when
    there are as many (else which is which cannot be told, and those branches count as missing)."""
    labels = sorted(_revisions()["labels"], key=len, reverse=True)  # the longest first
    named: set[str] = set()
    unnamed: list[str] = []
    for revision in unknown:
        label = next((label for label in labels if revision.startswith(f"{label}_")), None)
        if label is None:
            unnamed.append(revision)
        else:
            named.add(label)
    ahead = {branch for branch in candidates if branch in named}
    rest = [branch for branch in candidates if branch not in ahead]
    if unnamed and len(unnamed) >= len(rest):
        ahead.update(rest)
    return ahead
