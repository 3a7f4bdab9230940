"""The metrics a service keeps between scrapes, in a registry of the app's own: HTTP latency per route and
FastStream's consumer metrics; and :class:`ServiceCounter`, the hook for a service's own counts (postings).

HTTP latency is measured by ``RequestMetrics`` (a histogram labelled with the route's template,
``/persons/{person_id}``, never the path a caller typed, which may hold an identity number: the metrics
prometheus-fastapi-instrumentator made, read from the route FastAPI chose instead of matching every route
again per request, ~0.1 ms of a command's CPU); consumed messages by FastStream's own
``RedisPrometheusMiddleware`` (the subscriber path only: entries the kernel reclaims, drains from parking
or reconciles go around FastStream and are counted by the kernel's ``rehab_consumer_*``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from faststream.redis.prometheus import RedisPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.store.store import EventStore

__all__ = ["LATENCY_BUCKETS", "NOT_TIMED", "RequestMetrics", "ServiceCounter", "ServiceMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a command commits in milliseconds; a sheet import or a replay may take many seconds."""
NOT_TIMED = frozenset({"/metrics", "/health", "/health/live", "/health/ready"})
"""Routes left out of the latency histograms: scrapes and probes, not anyone's work."""


@dataclass(frozen=True)
class ServiceCounter:
    """A count a service reports at every scrape as ``rehab_<name>_total{service}``, read from its own store.

    The kernel names no service: a service passes its counters to ``create_service_app`` (settlement: the
    postings of its ledger). The count must only grow (append-only rows), as a Prometheus counter does.
    """

    name: str
    help: str
    read: Callable[[EventStore], int]


@dataclass
class ServiceMetrics:
    """One app's lasting metrics: its registry, its HTTP instrumentation and its broker middleware."""

    service: str
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def instrument(self, app: FastAPI) -> None:
        """Time every request by route (``rehab_http_request_duration_seconds{handler,method,status}``) and
        count them (``rehab_http_requests_total``), with ``RequestMetrics`` around the middlewares added
        so far.

        No ``service`` label: Prometheus's ``job`` and ``instance`` tell the services apart.
        """
        labels = ("handler", "method", "status")
        latency = Histogram(
            "http_request_duration_seconds",
            "Seconds an HTTP request took, by route template, method and status class.",
            labels,
            namespace="rehab",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        requests = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            labels,
            namespace="rehab",
            registry=self.registry,
        )
        app.add_middleware(RequestMetrics, latency=latency, requests=requests)

    def consumer_middleware(self) -> RedisPrometheusMiddleware:
        """FastStream's Prometheus middleware for the service's broker, on this app's registry."""
        return RedisPrometheusMiddleware(
            registry=self.registry, app_name=self.service, metrics_prefix="faststream"
        )


class RequestMetrics:
    """ASGI middleware: each request's seconds and count by route template, method and status class
    (``2xx``); the template is the API route FastAPI chose (``scope["route"]``), ``none`` for a path no API
    route serves (an unknown path, ``/openapi.json``), never the path a caller typed."""

    def __init__(self, app: ASGIApp, latency: Histogram, requests: Counter) -> None:
        self.app = app
        self.latency = latency
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            handler = getattr(scope.get("route"), "path", None) or "none"
            if handler not in NOT_TIMED:
                labels = (handler, scope["method"], f"{status // 100}xx")
                self.latency.labels(*labels).observe(time.perf_counter() - started)
                self.requests.labels(*labels).inc()
