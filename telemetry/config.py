"""The writer's typed configuration, built from the settings by ``ioc.runtime.writer_config`` or in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from telemetry.influx_output import InfluxTarget
from telemetry.line_protocol import TimeWindow


@dataclass(frozen=True)
class WriterConfig:
    spool_dir: Path
    target: InfluxTarget | None
    """``None``: spool only (no server configured yet); points wait, bounded, until one is."""
    batch_size: int = 5000
    flush_interval: float = 0.2
    """Seconds a partial batch waits for more points. It is the delay from the last point of a burst
    to its delivery (1.0 cost a tenth of the e2e bench's 200k burst); at a trickle it means at most
    five small requests a second per writer, which InfluxDB takes in about a millisecond each."""
    max_in_flight: int = 2
    """Concurrent batch requests: the server stores one while the next is read and compressed."""
    spool_max_bytes: int = 512 * 1024 * 1024
    retry_initial: float = 0.5
    retry_max: float = 30.0
    """Backoff cap while the server answers but refuses (5xx, 429, 401/403/404)."""
    retry_max_down: float = 2.0
    """Backoff cap while the server is known down (no answer): the probe notices its return sooner."""
    probe_interval: float = 0.25
    """Seconds between probes (``/ping``, ``/health``) while backing off; a down server that answers
    again ends the backoff at once."""
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
        if not 0 < self.retry_initial <= min(self.retry_max, self.retry_max_down):
            raise ValueError("retry_initial/retry_max/retry_max_down: need 0 < retry_initial <= both caps")
        if self.probe_interval <= 0:
            raise ValueError(f"probe_interval: must be > 0, got {self.probe_interval}")
