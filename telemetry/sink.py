"""The sink contract: what every collector, check and ingest writes through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from telemetry.points import Point


@runtime_checkable
class Sink(Protocol):
    async def write(self, points: Sequence[Point]) -> None:
        """Return once ``points`` are durable on local disk; delivery to the store happens later.

        Raises ``ValueError`` (naming the point and field) for points that can never be stored.
        """
        ...
