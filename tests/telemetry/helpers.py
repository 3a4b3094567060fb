"""Small helpers shared by the telemetry tests: configs, point generators, waiting for a drain."""

from __future__ import annotations

import time
from pathlib import Path

from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.points import Point
from telemetry.writer import TelemetryWriter
from tests.support.tsdb import INFLUX_DB
from tests.support.waits import wait_until

BASE_NS = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000
"""An hour ago, whole second: every generated point sits well inside the accepted time window."""


def v1_target(url: str, **overrides: object) -> InfluxTarget:
    return InfluxTarget(url=url, api="v1", database=INFLUX_DB, **overrides)  # type: ignore[arg-type]


def v2_target(url: str, **overrides: object) -> InfluxTarget:
    return InfluxTarget(url=url, api="v2", bucket="ioc", org="ioc", **overrides)  # type: ignore[arg-type]


def writer_config(spool: Path, target: InfluxTarget | None, **overrides: object) -> WriterConfig:
    settings: dict[str, object] = {
        "batch_size": 5000,
        "flush_interval": 0.2,
        "retry_initial": 0.05,
        "retry_max": 0.5,
        "self_metrics_interval": 0,
        "stop_timeout": 5.0,
    }
    settings.update(overrides)
    return WriterConfig(spool_dir=spool, target=target, **settings)  # type: ignore[arg-type]


def numbered_points(start: int, stop: int, measurement: str = "zl") -> list[Point]:
    """Point ``i`` has value ``i`` at ``BASE + i ms``: distinct even at VictoriaMetrics' ms precision."""
    return [
        Point(measurement, {"value": float(i)}, BASE_NS + i * 1_000_000, {"device": f"d{i % 10}"})
        for i in range(start, stop)
    ]


async def wait_drained(writer: TelemetryWriter, within: float = 60.0) -> None:
    await wait_until(
        lambda: writer.snapshot().get("spool_points", 0) == 0, within, f"drain {writer.snapshot()}"
    )
