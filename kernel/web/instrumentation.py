"""The metrics a service keeps between scrapes, in a registry of the app's own: HTTP latency per route and
FastStream's consumer metrics; and :class:`ServiceCounter`, the hook for a service's own counts (postings).

HTTP latency is measured by prometheus-fastapi-instrumentator (a histogram labelled with the route's template,
``/persons/{person_id}``, never the path a caller typed, which may hold an identity number); consumed messages
by FastStream's own ``RedisPrometheusMiddleware`` (the subscriber path only: entries the kernel reclaims,
drains from parking or reconciles go around FastStream and are counted by the kernel's ``rehab_consumer_*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from faststream.redis.prometheus import RedisPrometheusMiddleware
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics

from kernel.store.store import EventStore

__all__ = ["LATENCY_BUCKETS", "NOT_TIMED", "ServiceCounter", "ServiceMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a command commits in milliseconds; a sheet import or a replay may take many seconds."""
NOT_TIMED = ["/metrics", "/health", "/health/live", "/health/ready"]
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
        """Time every request by route (``rehab_http_request_duration_seconds{handler,method,status}``).

        No ``service`` label: the instrumentator's custom labels read attributes of its request info, not
        constants; Prometheus's ``job`` and ``instance`` tell the services apart.
        """
        instrumentator = Instrumentator(
            should_group_status_codes=True,
            should_ignore_untemplated=False,
            should_group_untemplated=True,  # an unknown path is "none", never the path itself
            excluded_handlers=NOT_TIMED,
            registry=self.registry,
        )
        latency = http_metrics.latency(
            metric_namespace="rehab",
            metric_doc="Seconds an HTTP request took, by route template, method and status class.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        requests = http_metrics.requests(metric_namespace="rehab", registry=self.registry)
        for instrumentation in (latency, requests):
            if instrumentation is not None:
                instrumentator.add(instrumentation)
        instrumentator.instrument(app)

    def consumer_middleware(self) -> RedisPrometheusMiddleware:
        """FastStream's Prometheus middleware for the service's broker, on this app's registry."""
        return RedisPrometheusMiddleware(
            registry=self.registry, app_name=self.service, metrics_prefix="faststream"
        )
