"""Which failures mean the database cannot serve now (a request is then answered 503 ``store.unavailable``,
never a 500 with a trace; ``kernel.web.store_unavailable.AnswerStoreUnavailable``).

PostgreSQL stopped, restarting, out of reach or read-only (``default_transaction_read_only``, a hot
standby a failover left the service on) fails a request wherever it first touches the store: the
idempotency middleware looking its key up, a route's query, its commit. The same request can succeed
unchanged later, so the client is told to send it again, with its Idempotency-Key for a command. A store
whose schema was not migrated (``REHAB_MIGRATE_AT_START=false`` before the operator ran the migrations)
lacks a table or a column: a 503 ``store.schema_behind`` too, as ``/health`` says ``schema.behind``
(the migration test makes sure no table or column the code uses is missing from the migrations). Any other
failure of the statement itself stays a 500. Once the server answers again the connections the outage
broke are replaced: SQLAlchemy empties the pool at the first disconnect it sees, and the engine's
``pool_pre_ping`` checks each connection before it is lent.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kernel.domain.rejections import CommandRejected
from kernel.store.store import StoreUnavailable

UNAVAILABLE_STATES = ("08", "53", "57")
"""PostgreSQL's SQLSTATE classes of a server that cannot serve now: connection exception, insufficient
resources (too many connections, disk full), operator intervention (shutting down, starting up, an
administrator ending the session)."""
READ_ONLY_STATE = "25006"
"""read_only_sql_transaction: the database is read-only (``default_transaction_read_only``) or a hot
standby (a failover left the service on one); an InternalError to SQLAlchemy, not an OperationalError."""
NOT_MIGRATED_STATES = ("42P01", "42703")
"""undefined_table, undefined_column: the schema is behind the code."""
SQLITE_UNAVAILABLE = ("locked", "busy", "disk", "full", "unable to open", "readonly")
"""What SQLite says when its file cannot be used now (its error class is the same as a missing table's);
``readonly``: the file, its folder or its journal cannot be written (SQLITE_READONLY)."""
READ_ONLY_REASON = (
    "数据库当前只读（主备切换中，或被设为只读），本次请求未完成；请稍后重新提交"
    "（命令带同一 Idempotency-Key 重试不会重复记录）"
)
SQLITE_NOT_MIGRATED = ("no such table", "no such column", "has no column named")


class SchemaNotMigrated(CommandRejected):
    """The store lacks a table or column the code uses: its migrations were not run. HTTP 503."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            "数据库结构尚未迁移到本版本（缺少表或列），本次请求未完成；请运维人员执行迁移后重新提交",
            code="store.schema_behind",
        )


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not serve the request (down, restarting, its connection lost, its pool
    exhausted, its disk full), as opposed to refusing the statement."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return any(word in str(cause).lower() for word in SQLITE_UNAVAILABLE)
    state = getattr(cause, "sqlstate", None)  # psycopg; None when no server answered at all
    if state is None:
        return isinstance(error, OperationalError | InterfaceError)
    return str(state)[:2] in UNAVAILABLE_STATES or state == READ_ONLY_STATE


def is_read_only(error: BaseException) -> bool:
    """True when the database refused a write because it accepts none now (a standby, read-only)."""
    if not isinstance(error, StatementError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return "readonly" in str(cause).lower()
    return getattr(cause, "sqlstate", None) == READ_ONLY_STATE


def is_not_migrated(error: BaseException) -> bool:
    """True when the statement failed on a table or column the store lacks: its schema is behind the code."""
    if not isinstance(error, StatementError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return any(words in str(cause).lower() for words in SQLITE_NOT_MIGRATED)
    return getattr(cause, "sqlstate", None) in NOT_MIGRATED_STATES


def store_refusal(error: BaseException) -> CommandRejected | None:
    """The 503 refusal a failed request gets, None when its failure is not the store's availability: a
    refusal raised outside a route (``StoreBusy`` in the idempotency middleware) as it is, a database that
    cannot serve as ``StoreUnavailable``, one whose schema is behind as ``SchemaNotMigrated``."""
    if isinstance(error, CommandRejected) and error.status_code == 503:
        return error
    if is_read_only(error):
        return StoreUnavailable(READ_ONLY_REASON)
    if is_unavailable(error):
        return StoreUnavailable()
    if is_not_migrated(error):
        return SchemaNotMigrated()
    return None
