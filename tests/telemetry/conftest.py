"""VictoriaMetrics for the telemetry tests (InfluxDB 1.x is the shared ``influxdb`` fixture in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telemetry.servers import VictoriaServer, start_victoria


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaServer]:
    server = start_victoria(tmp_path / "victoria")
    try:
        yield server
    finally:
        server.process.stop()
