"""An in-memory ``telemetry.sink.Sink`` for in-process tests of what the ingest makes of a message.

What must survive a crash is tested through the real writer into InfluxDB (test_delivery.py)."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry.points import Point


class RecordingSink:
    """In memory: for in-process tests."""

    def __init__(self) -> None:
        self.points: list[Point] = []

    async def write(self, points: Sequence[Point]) -> None:
        self.points.extend(points)
