"""Process runtime shared by every service: the FastAPI app with its store, relay and consumers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import MetaData

from kernel.access.access import install_access_control
from kernel.access.audit import AuditTrail
from kernel.consuming import groups_reading, start_when_redis_answers
from kernel.messaging.connection import redis_broker, redis_client
from kernel.messaging.consumer import EventConsumer, Subscription
from kernel.messaging.dead_letters import dead_letter_stream
from kernel.messaging.leadership import Leadership
from kernel.messaging.relay import OutboxRelay
from kernel.messaging.retention import retention_seconds
from kernel.service_health import count_leadership, readiness, snapshot, stored_health
from kernel.service_settings import ServiceSettings, batch_size, load_access_control, load_keyring
from kernel.store.store import EventStore, create_store_engine
from kernel.web.api_docs import install_api_docs
from kernel.web.asyncapi import StreamTopology
from kernel.web.asyncapi_page import AsyncApiDocs
from kernel.web.errors import install_error_handlers
from kernel.web.health import health_response
from kernel.web.idempotency import IdempotencyMiddleware, IdempotencyStore
from kernel.web.instrumentation import ServiceCounter, ServiceMetrics
from kernel.web.limits import BodyLimit
from kernel.web.logs import RequestLogging
from kernel.web.methods import PathMethods
from kernel.web.metrics import metrics_response
from kernel.web.openapi import install_openapi
from kernel.web.query_check import install_query_check
from kernel.web.store_unavailable import AnswerStoreUnavailable
from kernel.web.text_guard import TextGuard

__all__ = [  # the services import their settings and consumers' batch size from here too
    "FREEZE_AFTER_START",
    "ServiceRuntime",
    "ServiceSettings",
    "SingleWriter",
    "batch_size",
    "create_service_app",
    "runtime_of",
]

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """Everything one service process owns: its store, relay, consumer and Redis connection."""

    settings: ServiceSettings
    store: EventStore
    redis: Redis
    relay: OutboxRelay | None
    consumer: EventConsumer | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    blocked_by: str | None = None
    """Why the service does not publish or consume yet (e.g. unsafe Redis settings), if it does not."""
    single_writer: SingleWriter | None = None


@dataclass(frozen=True)
class SingleWriter:
    """Consumers only one instance may run at a time (settlement's ledger, ADR 0020): the elected leader
    consumes, the other instances stand by and serve reads.

    ``on_elected`` (blocking, in a worker thread) brings the instance's state up to date from the database
    before it consumes; ``on_deposed`` runs when it stops consuming (its state may then be behind);
    ``follow`` (blocking, in a worker thread), between two tries of the lock while standing by, keeps the
    state close to the leader's so that reads are current and a take-over is quick.
    """

    leadership: Leadership
    on_elected: Callable[[ServiceRuntime], None]
    on_deposed: Callable[[ServiceRuntime], None]
    follow: Callable[[ServiceRuntime], None] | None = None


FREEZE_AFTER_START = "freeze_after_start"
"""``app.state`` flag set by ``rehab serve``: once started, the objects alive are left out of the cyclic
garbage collector's passes (``gc.freeze``). Not for apps a test process makes by the hundred: their cycles
would never be collected."""


def _freeze_if_served(app: FastAPI) -> None:
    """In a service process (``FREEZE_AFTER_START``): the app's own objects (routes, models, schemas, the
    pack) live as long as the process, so they leave the cyclic collector's full passes, which walked all
    of them every batch or two of an import."""
    if getattr(app.state, FREEZE_AFTER_START, False):
        gc.collect()
        gc.freeze()


def runtime_of(request: Request) -> ServiceRuntime:
    """FastAPI dependency: the runtime of the service handling the request."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    publishes_to: str | None,
    subscriptions: list[Subscription],
    tables: MetaData | None = None,
    on_start: Callable[[ServiceRuntime], None] | None = None,
    on_stop: Callable[[ServiceRuntime], None] | None = None,
    counters: Sequence[ServiceCounter] = (),
    single_writer: SingleWriter | None = None,
) -> FastAPI:
    """The composition root of a service: nothing connects until the app starts. ``on_start`` runs before
    it consumes (a failure stops the start-up), ``on_stop`` after it stopped; ``counters``: the service's
    own counts on ``/metrics`` (``kernel.web.instrumentation``); ``single_writer``: only the elected
    instance consumes (ADR 0020)."""
    service_metrics = ServiceMetrics(settings.service)
    if single_writer is not None:
        count_leadership(service_metrics, single_writer.leadership)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = _build_runtime(settings, publishes_to, subscriptions, tables, single_writer)
        app.state.runtime = runtime
        app.state.audit_trail = AuditTrail(runtime.store.engine)
        await _started(runtime, on_start)
        broker = redis_broker(
            settings.redis_address,
            logger=logging.getLogger(f"faststream.{settings.service}"),
            log_level=logging.DEBUG,  # one line per consumed message is for debugging, not the service log
        )
        broker.insert_middleware(service_metrics.consumer_middleware())  # outermost: times everything
        if runtime.consumer is not None:
            runtime.consumer.register(broker, runtime.redis)
        runtime.tasks.append(asyncio.create_task(start_when_redis_answers(runtime, broker)))
        runtime.tasks.append(asyncio.create_task(forget_old_idempotency_keys(runtime)))
        _freeze_if_served(app)
        try:
            yield
        finally:
            await _stop_tasks(runtime.tasks)
            with contextlib.suppress(Exception):
                await broker.stop()
            await _close(runtime, on_stop)

    access = load_access_control(settings)
    app = FastAPI(title=title, description=description, lifespan=lifespan, version="0.1.0")
    install_error_handlers(app)
    install_query_check(app)  # before any route: an unknown query parameter is a 422, not ignored
    install_openapi(app, bearer_required=access is not None)
    # Middleware added last runs first: body limit, then who is calling, then NUL characters, then
    # idempotency. Every command may carry an Idempotency-Key: a retry gets the original response.
    app.add_middleware(PathMethods, routes=app.router.routes)  # HEAD as GET, OPTIONS: next to the routes
    app.add_middleware(IdempotencyMiddleware, store_of=_store_of)
    app.add_middleware(TextGuard)
    if access is not None:
        install_access_control(app, access)
    app.add_middleware(
        BodyLimit, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(AnswerStoreUnavailable)  # around every middleware that may touch the store
    topology = StreamTopology(
        service=settings.service,
        title=title,
        publishes_to=publishes_to,
        subscribes_to=tuple(subscription.stream for subscription in subscriptions),
        dead_letters=dead_letter_stream(settings.service) if subscriptions else None,
        redis_url=settings.redis_url,
    )
    app.add_middleware(AsyncApiDocs, topology=topology)  # /asyncapi.json and /asyncapi, like /docs
    service_metrics.instrument(app)  # latency per route, around everything below
    app.add_middleware(RequestLogging)  # outermost: every line logged during a request has its id
    install_api_docs(app)  # /docs and /redoc from local assets, answered before access control
    for router in routers:
        app.include_router(router)

    @app.get("/health/ready", include_in_schema=False)  # the same answer under the name probes expect
    @app.get(
        "/health",
        tags=["operations"],
        summary="Readiness, outbox and consumer state of this service",
        responses={503: {"description": "Not ready: each reason with its code (schema, Redis, relay)"}},
    )
    async def health(request: Request) -> JSONResponse:
        runtime = runtime_of(request)
        problems = await readiness(runtime)
        status = "ok" if runtime.blocked_by is None else f"blocked: {runtime.blocked_by}"
        body: dict[str, object] = {"service": settings.service, "status": status}
        body.update(await asyncio.to_thread(stored_health, runtime))
        return health_response(body, problems)

    @app.get("/health/live", include_in_schema=False)
    def live() -> dict[str, str]:
        """The process answers (for a supervisor deciding whether to restart it); readiness is /health."""
        return {"service": settings.service, "status": "alive"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus's text format: outbox backlog, events published, consumer counters and lag."""
        return metrics_response(await snapshot(runtime_of(request), counters), service_metrics.registry)

    return app


async def _started(runtime: ServiceRuntime, on_start: Callable[[ServiceRuntime], None] | None) -> None:
    """The service's own start-up; if it fails, what the runtime opened is closed first."""
    if on_start is None:
        return
    try:
        on_start(runtime)
    except BaseException:
        await _close(runtime)
        raise


async def _close(runtime: ServiceRuntime, on_stop: Callable[[ServiceRuntime], None] | None = None) -> None:
    if on_stop is not None:
        on_stop(runtime)
    await runtime.redis.aclose()
    if runtime.single_writer is not None:
        leadership = runtime.single_writer.leadership
        await leadership.call(leadership.close)
    runtime.store.engine.dispose()


def _store_of(scope: MutableMapping[str, Any]) -> IdempotencyStore:
    runtime: ServiceRuntime = scope["app"].state.runtime
    return runtime.store


async def forget_old_idempotency_keys(runtime: ServiceRuntime, every_seconds: float = 3600.0) -> None:
    """Delete keys older than ``idempotency_key_days`` now and then, until cancelled."""
    keep = timedelta(days=runtime.settings.idempotency_key_days)
    while True:
        try:
            removed = await asyncio.to_thread(runtime.store.forget_idempotency_keys, datetime.now(UTC) - keep)
        except Exception as error:  # a locked database: try again next time
            log.warning("old idempotency keys not deleted: %s", error)
        else:
            if removed:
                log.info("%d idempotency keys older than %s deleted", removed, keep)
        await asyncio.sleep(every_seconds)


async def _stop_tasks(tasks: list[asyncio.Task[None]], grace_seconds: float = 5.0) -> None:
    """Cancel the background tasks and wait a bounded time: a shutdown must never hang."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _done, stuck = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in stuck:
        log.warning("background task %s did not stop within %.0fs", task.get_name(), grace_seconds)


def _build_runtime(
    settings: ServiceSettings,
    publishes_to: str | None,
    subscriptions: list[Subscription],
    tables: MetaData | None,
    single_writer: SingleWriter | None = None,
) -> ServiceRuntime:
    keyring = load_keyring(settings, publishes=publishes_to is not None)
    store = EventStore(create_store_engine(settings.store_url), producer=settings.service)
    if settings.migrate_at_start:
        store.create_schema(tables, service=settings.service)
    redis = redis_client(settings.redis_address)
    relay = (
        OutboxRelay(
            store,
            redis,
            publishes_to,
            keyring=keyring,
            expected_groups=groups_reading(publishes_to),
            restore_seconds=retention_seconds(),
        )
        if publishes_to
        else None
    )
    consumer = (
        EventConsumer(
            store, settings.service, subscriptions, keyring=keyring, max_records=batch_size(settings)
        )
        if subscriptions
        else None
    )
    if single_writer is not None:  # one try at once: a lone instance writes from its first request on
        single_writer.leadership.try_to_lead()
    return ServiceRuntime(
        settings=settings,
        store=store,
        redis=redis,
        relay=relay,
        consumer=consumer,
        single_writer=single_writer,
    )
