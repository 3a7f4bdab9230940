"""A keyed command as the store records it: its ``Idempotency-Key`` and the answer kept for it (the HTTP
side is ``kernel.web.idempotency``; the route's unit of work is ``kernel.http.Command``)."""

from __future__ import annotations

from dataclasses import dataclass

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


StoredResponse = tuple[int, list[tuple[str, str]], bytes]
"""Status, headers and body of a command's successful answer, as kept for its key."""


@dataclass(frozen=True)
class IdempotentRequest:
    """The command being handled under an ``Idempotency-Key``: what the store records with its events.

    The middleware makes one per keyed request and hands it to the route; the route's unit of work
    (``EventStore.transaction(keyed=...)``) records it with the events and the answer.
    """

    key: str
    request_hash: str
    request_id: str
    """One attempt: a command appending in several transactions adds to its own key record."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """What the store knows of a key: the request it was first used for, its events, its response."""

    key: str
    request_hash: str
    event_ids: list[str]
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes | None
    request_id: str = ""
    """The attempt that recorded the key: a refusal kept by the attempt itself is no concurrent request's."""


class IdempotencyKeyInUse(Exception):
    """Another request with the same ``Idempotency-Key`` recorded its events first."""

    def __init__(self, key: str) -> None:
        # The message names no key: ``key`` is the stored one (``user:<hash>`` with access control
        # on), which means nothing to the client that sent its own.
        super().__init__(f"这个 {IDEMPOTENCY_KEY_HEADER} 已被另一个正在处理或已完成的请求使用")
        self.key = key
