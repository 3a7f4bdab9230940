"""One writer among a service's instances: a PostgreSQL session advisory lock held on a connection of its own.

The instance holding the lock leads: it alone consumes (ADR 0020, settlement's ledger). The others stand by,
trying the lock every ``retry_seconds``; PostgreSQL frees it the moment the leader's session ends (the
process killed, its connection closed or cut off, or silent past ``idle_session_seconds``), and the next
try of a standby wins. Two guards keep a deposed leader from writing after its successor started:

* the leader asks its own connection every ``check_seconds`` whether it still holds the lock, and gives
  up leading when it does not, or when the check fails or takes longer than ``check_timeout_seconds``;
* every writing transaction is fenced (:meth:`Leadership.fence`): it takes the write barrier shared and
  finds this leader's session alive, else it raises :class:`LeadershipLost` and rolls back. A new leader
  takes the barrier exclusively once before it reads anything, so it waits out the previous leader's
  transactions still in flight; any started later find the previous session gone.

"This leader's session alive" is one cheap call: a leader's session also holds a key of its own (the
*token*, random per election), which only that session ever takes; ``pg_try_advisory_xact_lock_shared`` of
it fails while that session lives and holds it, and succeeds once it ended (the writer's lock went with it).
Reading ``pg_locks`` instead cost ~1.2 ms per transaction here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import uuid4

from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from kernel.store.locks import scope_key

log = logging.getLogger(__name__)

T = TypeVar("T")

LEADER = "leader"
STANDBY = "standby"
IDLE_IN_WRITE = "10s"
"""How long a fenced transaction may sit idle (its process frozen) before the server ends it."""

_HELD_BY = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = :high "
    "AND objid::bigint = :low AND objsubid = 1 AND granted"
)


class LeadershipLost(ConnectionError):
    """This process does not hold the writer's lock (any more): the transaction must not commit.

    A ``ConnectionError`` (an ``OSError``), so the consumer takes it as a failure of the machinery: the
    entry stays pending, its delivery budget untouched, for the leader to claim.
    """


def elects_leaders(url: str) -> bool:
    """Whether a store URL can hold a leader election (PostgreSQL); SQLite runs one instance."""
    return make_url(url).get_backend_name() == "postgresql"


class Leadership:
    """Who writes for ``scope`` among the instances on one PostgreSQL database: this process or another."""

    def __init__(
        self,
        url: str,
        scope: str,
        *,
        retry_seconds: float = 1.0,
        check_seconds: float = 1.0,
        check_timeout_seconds: float = 3.0,
        idle_session_seconds: float = 5.0,
    ) -> None:
        self.scope = scope
        key = scope_key(scope)
        unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
        self._key = key
        self._where = {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}
        self._barrier = scope_key(f"{scope}:writes")
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self.check_timeout_seconds = check_timeout_seconds
        self._idle_ms = int(idle_session_seconds * 1000)
        # A connection of its own, outside the store's pool: the lock lives exactly as long as it does.
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": 3,
                "keepalives": 1,
                "keepalives_idle": 2,
                "tcp_user_timeout": 3000,
            },
        )
        self._connection: Connection | None = None
        # The lock's connection is used from one thread of its own: a pool busy with handlers waiting for
        # the book must not delay the checks past the server's idle timeout (a needless take-over).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"leadership-{scope}")
        self._token: int | None = None
        """The key only this leader's session holds, while it leads."""
        self.session_pid: int | None = None
        """The backend of the lock's connection while this process leads, else None."""
        self.elections_won = 0

    @property
    def role(self) -> str:
        return LEADER if self.session_pid is not None else STANDBY

    def health(self) -> dict[str, Any]:
        """What ``/health`` says about this instance's part."""
        return {"scope": self.scope, "role": self.role, "elections_won": self.elections_won}

    # -- the lock's connection (blocking: called in a worker thread) ---------------------------------------
    def try_to_lead(self) -> bool:
        """Take the lock if no other session holds it; then wait out the previous leader's writes."""
        if self.session_pid is not None:
            return True
        try:
            connection = self._connect()
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}):
                return False
            token = scope_key(f"{self.scope}:token:{uuid4()}")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": token})
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self._barrier})
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._barrier})
            # The server ends the session of a leader silent this long (frozen, cut off), freeing the lock;
            # not a standby's, which may be busy following the log for longer between two tries.
            if (connection.dialect.server_version_info or (0,)) >= (14,):
                connection.execute(text(f"SET idle_session_timeout = {self._idle_ms}"))
            self.session_pid = connection.scalar(text("SELECT pg_backend_pid()"))
            self._token = token
        except SQLAlchemyError as error:
            log.warning("%s: cannot try the writer's lock: %s", self.scope, error)
            self.step_down()
            return False
        self.elections_won += 1
        log.warning("%s: this instance leads now (backend %s)", self.scope, self.session_pid)
        return True

    def still_leads(self) -> bool:
        """Whether the lock's session is alive and holds the lock (a failed check is a lost lock)."""
        if self._connection is None or self.session_pid is None:
            return False
        try:
            holder = self._connection.scalar(_HELD_BY, self._where)
        except SQLAlchemyError as error:
            log.error("%s: the writer's lock connection failed: %s", self.scope, error)
            return False
        return bool(holder == self.session_pid)

    def step_down(self) -> None:
        """Close the lock's connection (PostgreSQL frees the lock with it); this instance stands by."""
        connection, self._connection = self._connection, None
        if self.session_pid is not None:
            log.warning("%s: this instance stands by now", self.scope)
        self.session_pid = None
        self._token = None
        if connection is not None:
            try:
                connection.close()
            except SQLAlchemyError as error:
                log.debug("closing the writer's lock connection: %s", error)

    def close(self) -> None:
        self.step_down()
        self._engine.dispose()
        self._thread.shutdown(wait=False)

    async def call(self, blocking: Callable[[], T]) -> T:
        """Run a blocking method of this object (``try_to_lead``, ``step_down``…) in the lock's own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, blocking)

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self._engine.connect()
        return self._connection

    # -- fencing (in the writing transaction) ----------------------------------------------------------
    def fence(self, session: Session) -> None:
        """Raise :class:`LeadershipLost` unless this process leads; once per transaction."""
        if session.info.get(self) is True:
            return
        token = self._token
        if token is None:
            raise LeadershipLost(f"{self.scope}: this instance stands by")
        # A leader frozen inside a transaction would hold the barrier and stall its successor: the server
        # ends such a transaction after IDLE_IN_WRITE idle.
        barrier = "SELECT pg_advisory_xact_lock_shared(:key), set_config(:setting, :idle, true)"
        idle = {"setting": "idle_in_transaction_session_timeout", "idle": IDLE_IN_WRITE}
        session.execute(text(barrier), {"key": self._barrier, **idle})
        alone = session.scalar(text("SELECT pg_try_advisory_xact_lock_shared(:key)"), {"key": token})
        if alone is not False:  # the token was free: this leader's session has ended
            raise LeadershipLost(f"{self.scope}: this instance does not hold the writer's lock")
        session.info[self] = True

    # -- the wait (async) -----------------------------------------------------------------------------
    async def lost(self) -> None:
        """Return once this instance no longer leads (a check failed, or did not answer in time)."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                leads = await asyncio.wait_for(
                    self.call(self.still_leads), timeout=self.check_timeout_seconds
                )
            except TimeoutError:
                log.error(
                    "%s: the writer's lock did not answer in %.0fs", self.scope, self.check_timeout_seconds
                )
                leads = False
            if not leads:
                return
