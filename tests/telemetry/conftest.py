"""Real servers for the telemetry tests: InfluxDB 1.x and VictoriaMetrics on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telemetry.servers import InfluxServer, VictoriaServer, start_influxdb, start_victoria


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxServer]:
    server = start_influxdb(tmp_path / "influxdb")
    try:
        yield server
    finally:
        server.process.stop()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaServer]:
    server = start_victoria(tmp_path / "victoria")
    try:
        yield server
    finally:
        server.process.stop()
