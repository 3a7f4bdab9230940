"""``GET /metrics`` in Prometheus's text format, written by prometheus-client.

The values are read when Prometheus scrapes (the outbox's backlog from the store, the consumer's lag
from Redis), so each scrape builds its families from one snapshot in a registry of its own: a process
may run several services' apps (tests). What must be kept between scrapes (latency histograms, FastStream's
counters) lives in the app's own registry (``kernel.web.instrumentation``), answered in the same scrape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Snapshot:
    """What one service reports at one scrape."""

    service: str
    stored: int
    unpublished: int
    received: int
    published: dict[str, int] = field(default_factory=dict)
    """Events this process's relay published, by stream."""
    consumer: Mapping[str, int] = field(default_factory=dict)
    """The consumer's counters since the process started (``ConsumerStats``)."""
    lag: dict[str, int] = field(default_factory=dict)
    """Entries of each consumed stream not yet delivered to the service's group."""
    ready: bool = True
    counters: dict[str, tuple[str, int]] = field(default_factory=dict)
    """The service's own counts (``ServiceCounter``): name -> (help, value)."""
    dead_letters: int | None = None
    """Entries waiting on the service's dead-letter stream; None when Redis could not tell."""


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap, labels = self.snapshot, ["service"]
        yield _gauge("rehab_ready", "1 when /health says ready, else 0.", snap.service, int(snap.ready))
        yield _gauge("rehab_events_stored", "Events this service recorded.", snap.service, snap.stored)
        backlog = snap.unpublished
        yield _gauge("rehab_outbox_backlog", "Recorded events not yet published.", snap.service, backlog)
        yield _gauge("rehab_inbox_events", "Consumed events kept in the inbox.", snap.service, snap.received)
        published = CounterMetricFamily(
            "rehab_events_published", "Events this process's relay published.", labels=[*labels, "stream"]
        )
        for stream, count in snap.published.items():
            published.add_metric([snap.service, stream], count)
        yield published
        for name, help_text in _CONSUMER_COUNTERS.items():
            counter = CounterMetricFamily(f"rehab_consumer_{name}", help_text, labels=labels)
            counter.add_metric([snap.service], snap.consumer.get(name, 0))
            yield counter
        lag = GaugeMetricFamily(
            "rehab_consumer_lag",
            "Entries of a consumed stream not yet delivered to the service's group.",
            labels=[*labels, "stream"],
        )
        for stream, entries in snap.lag.items():
            lag.add_metric([snap.service, stream], entries)
        yield lag
        if snap.dead_letters is not None:
            waiting = "Entries waiting on the service's dead-letter stream (XLEN)."
            yield _gauge("rehab_dead_letters", waiting, snap.service, snap.dead_letters)
        for name, (help_text, value) in snap.counters.items():
            counter = CounterMetricFamily(f"rehab_{name}", help_text, labels=labels)
            counter.add_metric([snap.service], value)
            yield counter


class _Lasting(Collector):
    """The app's lasting registry, collected into the scrape's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


_CONSUMER_COUNTERS = {
    "applied": "Consumed events applied.",
    "duplicates": "Deliveries of events already applied.",
    "dead_lettered": "Entries set aside on the dead-letter stream.",
    "parked": "Early events parked until their predecessor.",
    "failed_deliveries": "Deliveries that failed and were left pending.",
    "infrastructure_failures": "Deliveries that failed because the store or network did.",
}


def _gauge(name: str, help_text: str, service: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, help_text, labels=["service"])
    gauge.add_metric([service], value)
    return gauge


def metrics_response(snapshot: Snapshot, lasting: CollectorRegistry | None = None) -> Response:
    """The scrape: ``snapshot``'s families, then those of the app's ``lasting`` registry."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    if lasting is not None:
        registry.register(_Lasting(lasting))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
