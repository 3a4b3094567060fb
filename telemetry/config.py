"""The writer's typed configuration, built from :class:`ioc.settings.Settings` or directly in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry.influx_output import InfluxTarget
from telemetry.line_protocol import TimeWindow

if TYPE_CHECKING:  # ioc sits above telemetry; only its type is needed here.
    from ioc.settings import Settings


@dataclass(frozen=True)
class WriterConfig:
    spool_dir: Path
    target: InfluxTarget | None
    """``None``: spool only (no server configured yet); points wait, bounded, until one is."""
    batch_size: int = 5000
    flush_interval: float = 1.0
    max_in_flight: int = 2
    """Concurrent batch requests: the server stores one while the next is read and compressed."""
    spool_max_bytes: int = 512 * 1024 * 1024
    retry_initial: float = 0.5
    retry_max: float = 30.0
    self_metrics_interval: float = 10.0
    """Seconds between self-metric points written into the same store; 0 turns them off."""
    self_metrics_measurement: str = "ioc_telemetry"
    stop_timeout: float = 5.0
    """How long :meth:`TelemetryWriter.stop` tries to drain; what is left stays spooled for next start."""
    time_window: TimeWindow = field(default_factory=TimeWindow)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size: must be >= 1, got {self.batch_size}")
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight: must be >= 1, got {self.max_in_flight}")
        if self.flush_interval <= 0:
            raise ValueError(f"flush_interval: must be > 0, got {self.flush_interval}")
        if not 0 < self.retry_initial <= self.retry_max:
            raise ValueError("retry_initial/retry_max: need 0 < retry_initial <= retry_max")

    @classmethod
    def from_settings(cls, settings: Settings) -> WriterConfig:
        target = None
        if settings.influx_url:
            target = InfluxTarget(
                url=settings.influx_url,
                api=settings.influx_api,
                database=settings.influx_database,
                retention_policy=settings.influx_retention_policy,
                bucket=settings.influx_bucket,
                org=settings.influx_org,
                token=settings.influx_token,
                username=settings.influx_username,
                password=settings.influx_password,
                gzip=settings.influx_gzip,
                timeout=settings.influx_timeout,
            )
        return cls(
            spool_dir=settings.spool_dir,
            target=target,
            batch_size=settings.influx_batch_size,
            flush_interval=settings.influx_flush_interval,
            spool_max_bytes=settings.telemetry_spool_max_bytes,
        )
