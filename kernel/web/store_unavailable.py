"""A request its database could not serve is answered 503 ``store.unavailable`` with ``Retry-After``."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.store.unavailable import store_refusal
from kernel.web.problems import problem_body, send_json

log = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 5
"""What a 503 for a database that cannot be reached asks the client to wait."""


class AnswerStoreUnavailable:
    """ASGI middleware around every one that may touch the store: a request that failed because its database
    could not serve it (``kernel.store.unavailable``: down, restarting, out of reach) is answered 503
    ``store.unavailable`` with ``Retry-After``, and a 503 refusal raised outside a route (``StoreBusy`` while
    the idempotency middleware looks a key up) as itself, both problem+json, if no answer has started yet.
    Any other failure goes on to the 500 handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            refusal = store_refusal(error)
            if refusal is None or started:
                raise
            cause = getattr(error, "orig", None) or error
            log.warning("%s %s refused (503 %s): %s", scope["method"], scope["path"], refusal.code, cause)
            body = problem_body(503, refusal.code, refusal.message, instance=scope["path"])
            await send_json(send, 503, body, [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
