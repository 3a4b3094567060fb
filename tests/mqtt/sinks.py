"""Sinks for the ingest tests until the telemetry writer is merged: they implement ``telemetry.sink.Sink``."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path

from telemetry.points import Point


class RecordingSink:
    """In memory: for in-process tests."""

    def __init__(self) -> None:
        self.points: list[Point] = []

    async def write(self, points: Sequence[Point]) -> None:
        self.points.extend(points)


class FileSink:
    """JSON lines, fsynced before ``write`` returns: durable like the real spool.

    ``hang_after_receipt``: touch ``received_marker`` and never return, so a test can SIGKILL the
    ingest between receipt and acknowledgement.
    """

    def __init__(self, path: Path, *, hang_after_receipt: bool = False, received_marker: Path | None = None):
        self.path = path
        self.hang = hang_after_receipt
        self.received_marker = received_marker

    async def write(self, points: Sequence[Point]) -> None:
        if self.hang:
            if self.received_marker is not None:
                self.received_marker.write_text(str(len(points)))
            await asyncio.Event().wait()
        lines = "".join(
            json.dumps({"m": p.measurement, "f": dict(p.fields), "t": p.time_ns, "tags": dict(p.tags)}) + "\n"
            for p in points
        )
        await asyncio.to_thread(self._append, lines)

    def _append(self, lines: str) -> None:
        with open(self.path, "a") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())


def read_points(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
