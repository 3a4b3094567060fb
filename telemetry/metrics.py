"""Prometheus view of the telemetry writer: one registry the API mounts at ``/metrics``.

Values are read from the running writers at scrape time (a custom collector) instead of being mirrored
into prometheus-client counters, so the spool's persistent counters stay the one source of truth and
survive restarts; Prometheus handles a counter that is higher after a restart just fine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

BATCH_SECONDS = Histogram(
    "ioc_telemetry_batch_seconds",
    "Time to deliver one batch to the store, including bisection of refused batches.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


POLL_SECONDS = Histogram(
    "ioc_collector_poll_seconds",
    "One device's poll by a collector (all its requests and retries).",
    ["collector"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
CYCLE_SECONDS = Gauge(
    "ioc_collector_cycle_seconds", "Duration of the collector's last cycle.", ["collector"], registry=REGISTRY
)
DEVICE_UP = Gauge(
    "ioc_device_up",
    "1 when the device answered its collector's last poll, else 0.",
    ["collector", "device_id"],
    registry=REGISTRY,
)


class WriterStats(Protocol):
    """What a writer exposes for scraping; read from another thread, so plain values only."""

    def snapshot(self) -> dict[str, float]: ...


GAUGES = {
    "spool_points": "Points on disk waiting for the store to acknowledge them.",
    "spool_bytes": "Encoded bytes of the points waiting in the spool.",
    "oldest_unsent_age_seconds": "Age of the oldest point not yet acknowledged by the store.",
    "last_batch_seconds": "Delivery time of the last batch.",
    "quarantine_points": "Points the store refused, kept in the spool's quarantine for inspection.",
}
COUNTERS = {
    "points_written": "Points the store acknowledged.",
    "points_failed": "Points in delivery attempts that failed transiently and will be retried.",
    "points_quarantined": "Points the store refused with a reason (see `ioc telemetry quarantine`).",
    "points_dropped": "Oldest points deleted because the spool reached its size bound. Alert on this.",
    "batches_written": "Batches (or bisected parts) the store acknowledged.",
    "batches_failed": "Delivery attempts that failed transiently.",
}


class _WritersCollector(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writers: dict[str, WriterStats] = {}

    def track(self, spool: str, writer: WriterStats) -> None:
        with self._lock:
            self._writers[spool] = writer

    def untrack(self, spool: str) -> None:
        with self._lock:
            self._writers.pop(spool, None)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            writers = list(self._writers.items())
        families: list[GaugeMetricFamily | CounterMetricFamily] = []
        for name, doc in GAUGES.items():
            family = GaugeMetricFamily(f"ioc_telemetry_{name}", doc, labels=["spool"])
            for spool, writer in writers:
                family.add_metric([spool], writer.snapshot().get(name, 0.0))
            families.append(family)
        for name, doc in COUNTERS.items():
            counter = CounterMetricFamily(f"ioc_telemetry_{name}", doc, labels=["spool"])
            for spool, writer in writers:
                counter.add_metric([spool], writer.snapshot().get(name, 0.0))
            families.append(counter)
        yield from families


WRITERS = _WritersCollector()
REGISTRY.register(WRITERS)


def render() -> tuple[bytes, str]:
    """Body and content type for a ``/metrics`` response."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
