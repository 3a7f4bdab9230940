"""Which failures mean the database cannot serve now (a request is then answered 503 ``store.unavailable``,
never a 500 with a trace; ``kernel.web.store_unavailable.AnswerStoreUnavailable``).

PostgreSQL stopped, restarting or out of reach fails a request wherever it first touches the store: the
idempotency middleware looking its key up, a route's query, its commit. The same request can succeed
unchanged later, so the client is told to send it again, with its Idempotency-Key for a command. A failure
of the statement itself (a missing table, a bug) stays a 500. Once the server answers again the connections
the outage broke are replaced: SQLAlchemy empties the pool at the first disconnect it sees, and the engine's
``pool_pre_ping`` checks each connection before it is lent.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kernel.domain.rejections import CommandRejected
from kernel.store.store import StoreUnavailable

UNAVAILABLE_STATES = ("08", "53", "57")
"""PostgreSQL's SQLSTATE classes of a server that cannot serve now: connection exception, insufficient
resources (too many connections, disk full), operator intervention (shutting down, starting up)."""
SQLITE_UNAVAILABLE = ("locked", "busy", "disk", "full", "unable to open")
"""What SQLite says when its file cannot be used now (it reports a missing table the same way)."""


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
    return str(state)[:2] in UNAVAILABLE_STATES


def store_refusal(error: BaseException) -> CommandRejected | None:
    """The 503 refusal a failed request gets, None when its failure is not the store's availability: a
    refusal raised outside a route (``StoreBusy`` in the idempotency middleware) as it is, a database that
    cannot be reached as ``StoreUnavailable``."""
    if isinstance(error, CommandRejected) and error.status_code == 503:
        return error
    if is_unavailable(error):
        return StoreUnavailable()
    return None
