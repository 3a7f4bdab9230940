"""A keyed command as the store records it: its ``Idempotency-Key``, its held commit and its kept answer
(the HTTP side is ``kernel.web.idempotency``)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


StoredResponse = tuple[int, list[tuple[str, str]], bytes]
"""Status, headers and body of a command's successful answer, as kept for its key."""


class HeldCommit:
    """The still-open transaction holding a keyed command's events (and its key record).

    The store hands it over instead of committing; the middleware commits it once the response is
    known, with the response in it: a crash can no longer fall between recording the events and
    keeping the answer. Later transactions of the same command reuse it (``session``).
    """

    def __init__(self) -> None:
        self.session: Any = None
        self._finish: Callable[[StoredResponse | None], None] | None = None

    def hold(self, session: Any, finish: Callable[[StoredResponse | None], None]) -> None:
        self.session, self._finish = session, finish

    @property
    def pending(self) -> bool:
        """Whether a transaction is held (``session`` and its finish are set and cleared together)."""
        return self.session is not None

    def finish(self, response: StoredResponse | None) -> None:
        """Commit the held events, with ``response`` kept for the key when given (once)."""
        finish, self._finish, self.session = self._finish, None, None
        if finish is not None:
            finish(response)


@dataclass(frozen=True)
class IdempotentRequest:
    """The command being handled under an ``Idempotency-Key``: what the store records with its events."""

    key: str
    request_hash: str
    request_id: str
    """One attempt: a command appending in several transactions adds to its own key record."""
    commit: HeldCommit = field(default_factory=HeldCommit, compare=False)


@dataclass(frozen=True)
class IdempotencyRecord:
    """What the store knows of a key: the request it was first used for, its events, its response."""

    key: str
    request_hash: str
    event_ids: list[str]
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes | None


class IdempotencyKeyInUse(Exception):
    """Another request with the same ``Idempotency-Key`` recorded its events first."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{IDEMPOTENCY_KEY_HEADER} {key!r} is in use by a request in progress or completed")
        self.key = key


current_request: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)
"""Set by the middleware while a keyed command runs; read by ``UnitOfWork.append``."""
