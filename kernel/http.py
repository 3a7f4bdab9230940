"""Annotations every service's HTTP API shares: runtime, the command's unit of work, jurisdiction,
street filter, page parameters."""

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kernel.domain.rejections import CommandRejected
from kernel.messaging.relay import OutboxRelay
from kernel.reference import Jurisdiction
from kernel.runtime import ServiceRuntime, runtime_of
from kernel.store.keyed import IdempotentRequest, StoredResponse
from kernel.store.store import UnitOfWork
from kernel.web.idempotency import keyed_request

ResponseT = TypeVar("ResponseT", bound=Response)
T = TypeVar("T")


async def _runtime(request: Request) -> ServiceRuntime:
    # The dependencies here are ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool,
    # one hand-off to a worker thread and back for each, which cost a command more than reading them.
    return runtime_of(request)


Runtime = Annotated[ServiceRuntime, Depends(_runtime)]
"""The runtime (store, relay, consumer) of the service answering the request."""


class KeyedCommand:
    """The command a route handles: the unit of work it writes in, and the answer it gives.

    ``with command.unit() as unit:`` opens one transaction; ``command.answer(...)`` inside it keeps
    the answer for the command's ``Idempotency-Key`` in that transaction; the end of the ``with``
    block commits events, key and answer together, and the relay is woken ``RELAY_WAKE_SECONDS``
    later (``wake_relay_soon``). Without a key the unit is a plain transaction and the answer is kept
    nowhere.
    """

    def __init__(self, runtime: ServiceRuntime, keyed: IdempotentRequest | None) -> None:
        self.runtime = runtime
        self.keyed = keyed
        self._unit: UnitOfWork | None = None
        self._loop = _running_loop()
        """The loop the request is served on (None: made outside one, as a test or a tool does)."""

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """The command's unit of work: committed (with its answer) when the ``with`` block ends."""
        with self.runtime.store.transaction(self.keyed) as unit:
            self._unit = unit
            try:
                yield unit
            finally:
                self._unit = None
        relay = self.runtime.relay
        if unit.appended and relay is not None:  # publish soon rather than at the next poll
            wake_relay_soon(relay, self._loop)

    def answer(self, body: BaseModel, *, status: int = 200, location: str | None = None) -> JSONResponse:
        """The command's JSON answer, kept for its key (see ``keep``)."""
        headers = {"Location": location} if location is not None else None
        response = JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)
        return self.keep(response)

    def keep(self, response: ResponseT) -> ResponseT:
        """Keep a successful answer for the command's key: with the open unit's events when inside
        ``unit()``; else (a command that recorded no event) in a small transaction of its own."""
        if self.keyed is None or not 200 <= response.status_code < 300:
            return response
        answer: StoredResponse = (
            response.status_code,
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers],
            bytes(response.body),
        )
        if self._unit is not None:
            self._unit.keep_answer(answer)
        else:
            self.runtime.store.record_response(self.keyed, *answer)
        return response


RELAY_WAKE_SECONDS = 0.02
"""How long after a command's commit its relay is woken: the commits of that while share one pass.

A pass (a claim, signing, XADD, a mark: two hand-offs to a thread and a write transaction) per command cost
one client's commands about as much CPU as the command itself, and ran beside the client's next command
(issue 17). Woken 20 ms later, the commands of those 20 ms are published together; an event reaches its
stream at most that much later than at once (the relay's poll, ``idle_seconds``, is 0.1 s)."""

_WAKES: weakref.WeakKeyDictionary[OutboxRelay, asyncio.TimerHandle] = weakref.WeakKeyDictionary()
"""Each relay's pending wake-up; read and written on the relay's loop only."""


def wake_relay_soon(relay: OutboxRelay, loop: asyncio.AbstractEventLoop | None) -> None:
    """Wake ``relay`` ``RELAY_WAKE_SECONDS`` from now, unless a wake-up is due by then: from any thread,
    ``loop`` being the one the relay runs on. Without a loop (a command run outside a served app): at once."""
    if loop is not None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: woken at once below
            loop.call_soon_threadsafe(_schedule_wake, relay, loop)
            return
    relay.notify()


def _schedule_wake(relay: OutboxRelay, loop: asyncio.AbstractEventLoop) -> None:
    due = _WAKES.get(relay)
    if due is not None and not due.cancelled() and due.when() >= loop.time():
        return  # a wake-up is due within RELAY_WAKE_SECONDS: this commit's events are in its pass
    _WAKES[relay] = loop.call_later(RELAY_WAKE_SECONDS, _wake, relay)


def _wake(relay: OutboxRelay) -> None:
    _WAKES.pop(relay, None)
    relay.notify()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def command_for(request: Request) -> KeyedCommand:
    """The command being handled, with the Idempotency-Key the middleware read."""
    return KeyedCommand(runtime_of(request), keyed_request(request.scope))


async def command_of(request: Request) -> KeyedCommand:
    """FastAPI dependency: the command being handled (``command_for``)."""
    return command_for(request)


_COMMAND_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="command")
"""As many threads as anyio's default pool, which FastAPI runs a plain ``def`` route in."""


async def in_command_thread(work: Callable[[], T]) -> T:
    """``work()`` (a command's unit of work: it blocks on the database) in a worker thread, with the
    request's context variables (its request id in the log lines).

    An ``async def`` route that hands its unit of work here costs the event loop less than a plain ``def``
    route, which FastAPI runs through anyio's thread pool (a capacity limiter, a cancel scope and
    run-variable look-ups per call: ~0.2 ms of CPU per command, issue 17). Each FastAPI dependency costs
    about 0.05 ms more; a command route of a hot path takes the ``Request`` and reads its command
    (``command_for``), jurisdiction and caller from it.
    """
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_COMMAND_THREADS, context.run, work)


Command = Annotated[KeyedCommand, Depends(command_of)]
"""The command a route handles (``KeyedCommand``): its unit of work and its kept answer."""

MAX_QUERY_TEXT = 100
"""Longest text a query parameter may carry (a street, community or institution id is far shorter)."""

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
MAX_OFFSET = 1_000_000_000
"""Past any real list, and within every database's integer range (a larger offset was a 500)."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]


def jurisdiction_of(request: Request) -> Jurisdiction:
    """The jurisdiction (streets, designated institutions) the service was started for."""
    jurisdiction: Jurisdiction = request.app.state.jurisdiction
    return jurisdiction


async def _jurisdiction(request: Request) -> Jurisdiction:
    return jurisdiction_of(request)  # ``async``: see ``_runtime``


Area = Annotated[Jurisdiction, Depends(_jurisdiction)]


async def street_filter(
    area: Area,
    street: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Street 街道 of the jurisdiction.")
    ] = None,
) -> str | None:
    """A street to filter by; a street the jurisdiction does not have is an error, not an empty list."""
    if street is not None and street not in area.streets:
        raise CommandRejected(
            f"“{street}”不是本辖区的街道；可选：{'、'.join(area.streets)}",
            field="street",
            code="street.outside_jurisdiction",
        )
    return street


Street = Annotated[str | None, Depends(street_filter)]
"""An optional ``?street=`` query parameter, checked against the jurisdiction's streets."""
