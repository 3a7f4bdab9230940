"""Process runtime shared by every service: settings, the FastAPI app with its relay and consumers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.redis import RedisBroker
from prometheus_client import Gauge
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from rehab_contracts import STREAM_OF_PRODUCER
from sqlalchemy import MetaData
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.access.access import AccessControl, install_access_control
from kernel.access.audit import AuditTrail
from kernel.access.auth import TokenVerifier, load_public_keys
from kernel.deployment import load_deployment
from kernel.messaging.cancellation import raise_if_cancelled
from kernel.messaging.connection import (
    RedisAddress,
    follow_the_cluster,
    parse_sentinels,
    redis_broker,
    redis_client,
)
from kernel.messaging.consumer import ConsumerSettings, EventConsumer, Subscription
from kernel.messaging.dead_letters import dead_letter_stream
from kernel.messaging.durability import default_user_problems, durability_problems
from kernel.messaging.health import Problem, consumer_lag
from kernel.messaging.health import readiness as health_problems
from kernel.messaging.leadership import Leadership
from kernel.messaging.relay import OutboxRelay
from kernel.messaging.retention import DEFAULT_EVERY_SECONDS as TRIM_EVERY_SECONDS
from kernel.messaging.retention import retention_seconds, trim_forever
from kernel.messaging.signing import KeyMaterialError, KeyRing
from kernel.store.store import EventStore, create_store_engine
from kernel.store.unavailable import store_refusal
from kernel.web.api_docs import install_api_docs
from kernel.web.asyncapi import StreamTopology
from kernel.web.asyncapi_page import AsyncApiDocs
from kernel.web.errors import install_error_handlers
from kernel.web.health import bound_problems, health_response
from kernel.web.idempotency import IdempotencyMiddleware, IdempotencyStore
from kernel.web.instrumentation import ServiceCounter, ServiceMetrics
from kernel.web.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES, BodyLimit
from kernel.web.logs import RequestLogging
from kernel.web.metrics import Snapshot, metrics_response
from kernel.web.openapi import install_openapi
from kernel.web.problems import problem_body, send_json
from kernel.web.query_check import install_query_check
from kernel.web.text_guard import TextGuard

log = logging.getLogger(__name__)

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}
REDIS_LOST_SECONDS = 15.0
"""A settlement leader (any single writer) whose Redis has not answered this long gives up its lock."""
PRODUCTION = "production"
RETRY_AFTER_SECONDS = 5
"""What a 503 for a database that cannot be reached asks the client to wait."""


class ServiceSettings(BaseSettings):
    """How one service process runs. Every field can be set by a ``REHAB_`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore")

    service: str = Field(description="Which agency service this process is.")
    var_dir: Path = Field(default=Path("var"), description="Where SQLite files live by default.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the service's own store; default SQLite in var_dir."
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="The shared Redis.")
    redis_sentinels: str | None = Field(
        default=None,
        description="host:port,host:port of Redis Sentinels: connect to the current primary of "
        "redis_sentinel_group through them and follow a failover (redis_url then gives only the user, "
        "password and database). Unset: redis_url's server.",
    )
    redis_sentinel_group: str = Field(default="rehab", description="The Sentinels' name of the primary.")
    redis_sentinel_password: str | None = Field(
        default=None, description="The Sentinels' own password (requirepass), if they have one."
    )
    redis_cluster: bool = Field(
        default=False, description="redis_url is one node of a Redis Cluster (redis-py's RedisCluster)."
    )
    redis_cluster_nodes: str | None = Field(
        default=None,
        description="host:port,host:port of more seed nodes of the Redis Cluster than redis_url's: asked "
        "in turn at start, so one node down does not stop a service from starting (redis_cluster only).",
    )
    host: str = Field(default="127.0.0.1")
    port: int | None = Field(default=None, description="HTTP port; default from deploy/services.toml.")
    allow_volatile_redis: bool = Field(
        default=False,
        description="Run even on a Redis that may lose acknowledged entries (no AOF, eviction): demos only.",
    )
    keys_dir: Path | None = Field(
        default=None,
        description="Event-signing keys (rehab keys): sign what this service publishes with its own newest "
        "key and dead-letter consumed events not signed by their producer. Unset: events travel unsigned.",
    )
    demo: bool | None = Field(
        default=None,
        description="Demo mode: may run as Redis's default user. Unset: on for a Redis on this machine "
        "(loopback), off otherwise; always off when env is 'production'.",
    )
    env: str = Field(
        default="development",
        description="'production' makes the start-time checks strict: no default Redis user, keys and "
        "access control required.",
    )
    access_dir: Path | None = Field(
        default=None,
        description="Token public keys (*.pub.pem, as `rehab users` writes them): every request then needs "
        "a bearer token of this agency or an auditor, and reads of personal data are audited. Unset: the "
        "API is open to whoever reaches its port (tests, a local demo).",
    )
    idempotency_key_days: float = Field(
        default=30.0,
        gt=0,
        description="How long an Idempotency-Key (and the response kept with it) answers retries; "
        "older keys are deleted every hour.",
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, gt=0, description="Largest request body accepted (413 above)."
    )
    max_upload_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BYTES, gt=0, description="Largest multipart/form-data upload accepted."
    )
    migrate_at_start: bool = Field(
        default=True,
        description="Apply the store's pending migrations at start-up, under the schema lock (ADR 0018). "
        "Off: an operator migrates (alembic); until then /health is not ready.",
    )
    ready_max_consumer_lag: int | None = Field(
        default=10_000,
        ge=0,
        description="/health is not ready while a consumed stream has more entries than this not yet "
        "delivered to the service's group (Redis's group lag). 'none': no bound.",
    )
    ready_max_dead_letters: int | None = Field(
        default=100,
        ge=0,
        description="/health is not ready while more entries than this wait on the service's dead-letter "
        "stream (`rehab dlq`). 'none': no bound.",
    )

    @field_validator("ready_max_consumer_lag", "ready_max_dead_letters", mode="before")
    @classmethod
    def _none_is_no_bound(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_host_port_pairs(cls, sentinels: str | None) -> str | None:
        parse_sentinels(sentinels or "")  # refused at start, not at the first connection
        return sentinels

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / (self.service + '.db')}"

    @property
    def http_port(self) -> int:
        return self.port if self.port is not None else load_deployment().spec(self.service).port

    @property
    def production(self) -> bool:
        return self.env.strip().lower() == PRODUCTION

    @property
    def demo_mode(self) -> bool:
        """May the service run as Redis's default user? See ``demo``."""
        if self.production:
            return False
        if self.demo is not None:
            return self.demo
        if self.redis_address.uses_sentinel:
            return all(host in LOCAL_HOSTS for host in self.redis_address.hosts)
        parsed = urlparse(self.redis_url)
        return parsed.scheme == "unix" or (parsed.hostname or "") in LOCAL_HOSTS

    @property
    def redis_address(self) -> RedisAddress:
        """Where Redis is: ``redis_url``, or the primary the ``redis_sentinels`` name."""
        return RedisAddress.of(
            self.redis_url,
            self.redis_sentinels,
            self.redis_sentinel_group,
            self.redis_sentinel_password,
            self.redis_cluster,
            self.redis_cluster_nodes,
        )


class AccessConfigurationError(Exception):
    """Access control is required (production) or configured, but cannot be set up."""


def load_access_control(settings: ServiceSettings) -> AccessControl | None:
    """The service's access control from ``access_dir``; None (open API) only outside production."""
    if settings.access_dir is None:
        if settings.production:
            raise AccessConfigurationError(
                "REHAB_ENV=production needs REHAB_ACCESS_DIR (the token public keys `rehab users` writes): "
                "without it the HTTP API would be open to whoever reaches its port"
            )
        return None
    public_keys = load_public_keys(settings.access_dir)
    if not public_keys:
        raise AccessConfigurationError(
            f"no token public key (*.pub.pem) in REHAB_ACCESS_DIR={settings.access_dir}: run "
            "`rehab users rotate-key` there, or copy the deployment's public keys into it"
        )
    return AccessControl(
        settings.service,
        TokenVerifier(public_keys),
        command_scopes=load_deployment().spec(settings.service).command_scopes or frozenset(),
    )


def load_keyring(settings: ServiceSettings, publishes: bool) -> KeyRing | None:
    """The service's key ring, None when no keys are configured; KeyMaterialError when unusable."""
    if settings.keys_dir is None:
        if settings.production:
            raise KeyMaterialError("REHAB_ENV=production needs REHAB_KEYS_DIR: events would travel unsigned")
        return None
    keyring = KeyRing.from_directory(settings.keys_dir, settings.service)
    if publishes and keyring.signing_key is None:
        raise KeyMaterialError(
            f"no private key of {settings.service} in {settings.keys_dir}: run "
            f"`rehab keys generate --agency {settings.service} --dir {settings.keys_dir}`"
        )
    return keyring


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
    counters: Sequence[ServiceCounter] = (),
    single_writer: SingleWriter | None = None,
) -> FastAPI:
    """The composition root of a service: nothing connects until the app starts. ``counters``: the
    service's own counts on ``/metrics`` (``kernel.web.instrumentation``); ``single_writer``: only the
    elected instance consumes (ADR 0020)."""
    service_metrics = ServiceMetrics(settings.service)
    if single_writer is not None:
        _count_leadership(service_metrics, single_writer.leadership)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = _build_runtime(settings, publishes_to, subscriptions, tables, single_writer)
        app.state.runtime = runtime
        app.state.audit_trail = AuditTrail(runtime.store.engine)
        if on_start is not None:
            on_start(runtime)
        broker = redis_broker(
            settings.redis_address,
            logger=logging.getLogger(f"faststream.{settings.service}"),
            log_level=logging.DEBUG,  # one line per consumed message is for debugging, not the service log
        )
        broker.insert_middleware(service_metrics.consumer_middleware())  # outermost: times everything
        if runtime.consumer is not None:
            runtime.consumer.register(broker, runtime.redis)
        runtime.tasks.append(asyncio.create_task(_start_when_redis_answers(runtime, broker)))
        runtime.tasks.append(asyncio.create_task(forget_old_idempotency_keys(runtime)))
        _freeze_if_served(app)
        try:
            yield
        finally:
            await _stop_tasks(runtime.tasks)
            with contextlib.suppress(Exception):
                await broker.stop()
            await _close(runtime)

    access = load_access_control(settings)
    app = FastAPI(title=title, description=description, lifespan=lifespan, version="0.1.0")
    install_error_handlers(app)
    install_query_check(app)  # before any route: an unknown query parameter is a 422, not ignored
    install_openapi(app, bearer_required=access is not None)
    # Middleware added last runs first: body limit, then who is calling, then NUL characters, then
    # idempotency. Every command may carry an Idempotency-Key: a retry gets the original response.
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
        body.update(await asyncio.to_thread(_stored_health, runtime))
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


def _stored_health(runtime: ServiceRuntime) -> dict[str, object]:
    """What ``/health`` says about the events stored, the consumer and, for a single writer, this instance's
    role. While the store cannot be read (``store.unreachable`` among the problems) ``events`` is None and
    the consumer shows its counters only."""
    try:
        events: dict[str, int] | None = runtime.store.counts()
    except SQLAlchemyError:
        events = None
    return {"events": events, **_parts_health(runtime)}


def _parts_health(runtime: ServiceRuntime) -> dict[str, object]:
    """What ``/health`` says about the consumer and, for a single writer, this instance's role."""
    parts: dict[str, object] = {}
    if runtime.consumer is not None:
        try:
            parts["consumer"] = runtime.consumer.health()
        except SQLAlchemyError:  # the events parked now are counted in the store
            parts["consumer"] = asdict(runtime.consumer.stats)
    if runtime.single_writer is not None:
        parts["leadership"] = runtime.single_writer.leadership.health()
    return parts


async def _close(runtime: ServiceRuntime) -> None:
    await runtime.redis.aclose()
    if runtime.single_writer is not None:
        leadership = runtime.single_writer.leadership
        await leadership.call(leadership.close)
    runtime.store.engine.dispose()


def _count_leadership(metrics: ServiceMetrics, leadership: Leadership) -> None:
    """``rehab_leader{service,scope}`` on ``/metrics``: 1 while this instance leads, 0 while it stands by."""
    gauge = Gauge(
        "rehab_leader",
        "1 while this instance is the elected single writer (it consumes), 0 while it stands by.",
        ["service", "scope"],
        registry=metrics.registry,
    )
    gauge.labels(metrics.service, leadership.scope).set_function(
        lambda: 1.0 if leadership.session_pid is not None else 0.0
    )


async def readiness(runtime: ServiceRuntime) -> list[Problem]:
    """Why the service is not ready, if it is not (``kernel.messaging.health.readiness``)."""
    service, blocked_by = runtime.settings.service, runtime.blocked_by
    streams = _streams_of(runtime)
    problems = await health_problems(
        runtime.store, service, runtime.redis, streams, runtime.relay, blocked_by
    )
    if runtime.consumer is None or problems:
        return problems
    settings = runtime.settings
    lag, dead_letters = await consumer_backlog(runtime)
    return bound_problems(lag, dead_letters, settings.ready_max_consumer_lag, settings.ready_max_dead_letters)


async def consumer_backlog(runtime: ServiceRuntime) -> tuple[dict[str, int], int | None]:
    """Each consumed stream's group lag, and the entries on the dead-letter stream (None: Redis failed)."""
    if runtime.consumer is None:
        return {}, None
    with contextlib.suppress(RedisError, OSError):
        streams = _streams_of(runtime, published=False)
        lag = await consumer_lag(runtime.redis, streams, runtime.consumer.group)
        return lag, await _dead_letters_waiting(runtime.redis, dead_letter_stream(runtime.settings.service))
    return {}, None


async def _dead_letters_waiting(redis: Redis, stream: str) -> int:
    # XINFO STREAM, not XLEN: the agency's Redis user may run the former on its dead letters (deploy/redis)
    try:
        info = await redis.xinfo_stream(stream)
    except ResponseError as error:
        if "no such key" in str(error).lower():
            return 0
        raise
    return int(info["length"])


async def snapshot(runtime: ServiceRuntime, counters: Sequence[ServiceCounter] = ()) -> Snapshot:
    """What ``/metrics`` reports now."""
    counts = await asyncio.to_thread(runtime.store.counts)
    problems = await readiness(runtime)
    relay, consumer = runtime.relay, runtime.consumer
    redis_answers = not any(code.startswith("redis.") for code, _reason in problems)
    lag, dead_letters = await consumer_backlog(runtime) if redis_answers else ({}, None)
    own = await asyncio.to_thread(_read_counters, runtime.store, counters)
    return Snapshot(
        service=runtime.settings.service,
        stored=counts["stored"],
        unpublished=counts["unpublished"],
        received=counts["received"],
        published={relay.stream: relay.health.published_total} if relay is not None else {},
        consumer=asdict(consumer.stats) if consumer is not None else {},
        lag=lag,
        ready=not problems,
        counters=own,
        dead_letters=dead_letters,
    )


def _read_counters(store: EventStore, counters: Sequence[ServiceCounter]) -> dict[str, tuple[str, int]]:
    """Each counter's value; one its store cannot read yet (tables not migrated) is left out of the scrape."""
    values = {}
    for counter in counters:
        try:
            values[counter.name] = (counter.help, counter.read(store))
        except SQLAlchemyError as error:
            log.debug("%s not counted: %s", counter.name, error)
    return values


def _streams_of(runtime: ServiceRuntime, published: bool = True) -> list[str]:
    """The streams the service publishes to (``published``) and consumes."""
    streams = [runtime.relay.stream] if published and runtime.relay is not None else []
    if runtime.consumer is not None:
        streams += [subscription.stream for subscription in runtime.consumer.subscriptions]
    return streams


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


async def _restart_stopped_subscribers(runtime: ServiceRuntime, broker: RedisBroker) -> None:
    """FastStream stops a subscriber for good when its group vanished (NOGROUP, e.g. Redis lost its
    data); re-create the group and start the subscriber again, so consuming resumes without a restart."""
    while True:
        await asyncio.sleep(2.0)
        await follow_the_cluster(broker)  # a dead default node would stop XREADGROUP for good
        stopped = [subscriber for subscriber in broker.subscribers if not subscriber.running]
        if not stopped or runtime.consumer is None:
            continue
        try:
            await runtime.consumer.ensure_groups(runtime.redis)
            for subscriber in stopped:
                log.warning("%s restarts a stopped subscriber", runtime.settings.service)
                await subscriber.start()
        except (RedisError, OSError) as error:
            log.warning("%s cannot restart its subscribers yet: %s", runtime.settings.service, error)


async def _redis_is_safe(runtime: ServiceRuntime) -> bool:
    """Durable, and reached as the service's own user (outside demo mode); else blocked with the reason."""
    settings = runtime.settings
    problems = await durability_problems(runtime.redis)
    if problems and settings.allow_volatile_redis:
        log.warning(
            "Redis may lose data (%s); running anyway: allow_volatile_redis is set", "; ".join(problems)
        )
        problems = []
    problems += await default_user_problems(runtime.redis, settings.service, demo=settings.demo_mode)
    if problems:
        runtime.blocked_by = "unsafe Redis settings: " + "; ".join(problems)
        log.error("%s refuses to publish or consume: %s", runtime.settings.service, runtime.blocked_by)
        return False
    runtime.blocked_by = None
    return True


def batch_size(settings: ServiceSettings) -> int | None:
    """Entries the service's consumer reads at a time: ``REHAB_MAX_RECORDS``, else its ``batch_size`` in
    deploy/services.toml, else None (the consumer's default)."""
    return ConsumerSettings().max_records or load_deployment().spec(settings.service).batch_size


def groups_reading(stream: str) -> frozenset[str]:
    """The consumer groups that read ``stream``, whether or not they exist on Redis yet: each service the
    deployment says subscribes to the stream's producer (deploy/services.toml ``subscribes_to``, which
    tests hold equal to what each service's app subscribes to) reads it in a group named after itself
    (``EventConsumer.group``).

    The relay counts such a group from the stream's start until it has seen it, and retention trims
    nothing while one is missing: a consumer that has not started yet (settlement deployed a day after
    survey, a group lost with Redis's data) still finds every entry it must read, or has it published
    again. A group someone else creates (an integrator's) is protected once it exists.
    """
    producers = {producer for producer, produced in STREAM_OF_PRODUCER.items() if produced == stream}
    subscriptions = load_deployment().subscriptions
    return frozenset(service for service, sources in subscriptions.items() if producers & set(sources))


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


async def _start_when_redis_answers(runtime: ServiceRuntime, broker: RedisBroker) -> None:
    """Publish and consume once Redis answers and keeps what it acknowledges.

    The HTTP API works meanwhile: commands are committed to the outbox and published later.
    """
    consumer = runtime.consumer
    while True:
        try:
            await runtime.redis.ping()
            if not await _redis_is_safe(runtime):
                _stand_aside(runtime)
                await asyncio.sleep(5.0)  # the operator may fix the settings; check again
                continue
            if runtime.single_writer is None:
                if consumer is not None:
                    await consumer.ensure_groups(runtime.redis)
                await broker.start()
            break
        except Exception as error:
            log.warning("%s waits for Redis: %s", runtime.settings.service, error)
            _stand_aside(runtime)
            with contextlib.suppress(Exception):
                await broker.stop()
            await asyncio.sleep(1.0)
    raise_if_cancelled()  # the app may have stopped during broker.start()
    if runtime.relay is not None:
        runtime.tasks.append(asyncio.create_task(runtime.relay.run()))
        if (keep_seconds := retention_seconds()) is not None:  # trims only behind the slowest group
            every = min(TRIM_EVERY_SECONDS, keep_seconds)
            stream = runtime.relay.stream
            groups = groups_reading(stream)
            trimming = trim_forever(runtime.redis, [stream], keep_seconds, groups, every_seconds=every)
            runtime.tasks.append(asyncio.create_task(trimming))
    if runtime.single_writer is not None:
        await _consume_while_leading(runtime, broker, runtime.single_writer)
        return
    runtime.tasks.append(asyncio.create_task(_restart_stopped_subscribers(runtime, broker)))
    if consumer is not None:
        runtime.tasks.append(asyncio.create_task(consumer.reclaim_forever(runtime.redis)))
        await consumer.keep_groups(runtime.redis)


async def _consume_while_leading(runtime: ServiceRuntime, broker: RedisBroker, writer: SingleWriter) -> None:
    """Stand by until elected, consume while leading, stand by when the lock is lost; until cancelled."""
    leadership, service = writer.leadership, runtime.settings.service
    while True:
        await _stand_by(runtime, writer)
        consuming: list[asyncio.Task[None]] = []
        try:
            await asyncio.to_thread(writer.on_elected, runtime)
            consuming = await _start_consuming(runtime, broker)
            pause = await _lead_until_lost(runtime, leadership)
        except Exception as error:
            log.error("%s cannot lead: %s", service, error, exc_info=error)
            pause = leadership.retry_seconds
        finally:
            await leadership.call(leadership.step_down)  # first: from now on its transactions are fenced
            await _stop_consuming(broker, consuming)
            writer.on_deposed(runtime)
        raise_if_cancelled()
        await asyncio.sleep(pause)


async def _lead_until_lost(runtime: ServiceRuntime, leadership: Leadership) -> float:
    """Return when the lock is lost, or when Redis has not answered for ``REDIS_LOST_SECONDS`` (a leader
    that cannot consume makes way for a standby that may); how long to wait before trying the lock again."""
    lock = asyncio.create_task(leadership.lost())
    redis = asyncio.create_task(_redis_lost(runtime.redis, REDIS_LOST_SECONDS))
    try:
        done, _pending = await asyncio.wait({lock, redis}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lock.cancel()
        redis.cancel()
    service = runtime.settings.service
    if lock in done:
        log.error("%s lost the writer's lock: it stops consuming and stands by", service)
        return leadership.retry_seconds
    log.error("%s cannot reach Redis: it gives up the writer's lock for a standby that can", service)
    return REDIS_LOST_SECONDS / 3  # the standbys try first


async def _redis_lost(redis: Redis, seconds: float) -> None:
    """Return once Redis has not answered a PING for ``seconds``."""
    loop = asyncio.get_running_loop()
    failing_since: float | None = None
    while True:
        await asyncio.sleep(1.0)
        try:
            await asyncio.wait_for(redis.ping(), timeout=2.0)
            failing_since = None
        except (RedisError, OSError, TimeoutError):
            failing_since = failing_since if failing_since is not None else loop.time()
            if loop.time() - failing_since >= seconds:
                return


def _stand_aside(runtime: ServiceRuntime) -> None:
    """Give up the writer's lock while Redis cannot be used: a standby that can use it may lead."""
    if runtime.single_writer is not None and runtime.single_writer.leadership.session_pid is not None:
        runtime.single_writer.leadership.step_down()


async def _stand_by(runtime: ServiceRuntime, writer: SingleWriter) -> None:
    """Try the lock every ``retry_seconds``, following the leader meanwhile; return once elected."""
    leadership = writer.leadership
    while not await leadership.call(leadership.try_to_lead):
        if writer.follow is not None:
            try:
                await asyncio.to_thread(writer.follow, runtime)
            except Exception as error:
                log.warning("%s cannot follow the leader yet: %s", runtime.settings.service, error)
        await asyncio.sleep(leadership.retry_seconds)


async def _start_consuming(runtime: ServiceRuntime, broker: RedisBroker) -> list[asyncio.Task[None]]:
    """The leader's consuming: what the previous leader left pending is claimed at once, then the
    subscribers start (again) with the reclaim and group-keeping loops."""
    consumer = runtime.consumer
    if consumer is None:
        return []
    await consumer.ensure_groups(runtime.redis)
    # Only the leader consumes, so an entry pending in the group is a dead or deposed leader's: claim it now.
    await consumer.reclaim_once(runtime.redis, min_idle_seconds=0)
    if broker.running:
        for subscriber in broker.subscribers:
            if not subscriber.running:
                await subscriber.start()
    else:
        await broker.start()
    loops = [
        _restart_stopped_subscribers(runtime, broker),
        consumer.reclaim_forever(runtime.redis),
        consumer.keep_groups(runtime.redis),
    ]
    return [asyncio.create_task(loop) for loop in loops]


async def _stop_consuming(broker: RedisBroker, consuming: list[asyncio.Task[None]]) -> None:
    """Stop reading the streams at once; a handler still running is fenced from committing (ADR 0020)."""
    for task in consuming:
        task.cancel()
    running = [subscriber.stop() for subscriber in broker.subscribers if subscriber.running]
    if running:  # each waits for its handler in flight, at most FastStream's graceful timeout
        await asyncio.wait([asyncio.ensure_future(stop) for stop in running], timeout=5.0)
    if consuming:
        await asyncio.wait(consuming, timeout=5.0)
