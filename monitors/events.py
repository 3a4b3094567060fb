"""The contract between the monitors (producer) and alerting (consumer): device state changes.

Monitors publish a :class:`StateChange` for every transition of a device's state; alerting decides what
to notify. ``event_id`` is unique per transition and is the idempotency key downstream, so a
notification is never sent twice for the same transition even if an event is delivered twice.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class DeviceState(enum.StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    SOFT_DOWN = "soft_down"
    DOWN = "down"
    UNREACHABLE = "unreachable"
    """Every uplink is down or unreachable: recorded, never alerted on its own."""
    FLAPPING = "flapping"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class StateChange:
    event_id: str
    device_id: int
    previous: DeviceState
    current: DeviceState
    at: datetime
    """Timezone-aware UTC time of the transition."""
    reason: str = ""
    outage_id: int | None = None
    root_cause_device_id: int | None = None
    """The device whose failure explains this one (itself for a root outage)."""
    affected_device_ids: Sequence[int] = field(default_factory=tuple)
    """For a root outage: the devices behind it that became UNREACHABLE."""
    in_maintenance: bool = False
    severity: Severity = Severity.CRITICAL


class EventSink(Protocol):
    async def publish(self, event: StateChange) -> None: ...


class EventBus:
    """In-process fan-out: each subscriber gets its own bounded queue, owned by the serving process.

    ``publish`` waits when a subscriber's queue is full rather than dropping an event.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        self._maxsize = maxsize
        self._queues: list[asyncio.Queue[StateChange]] = []

    def subscribe(self) -> asyncio.Queue[StateChange]:
        queue: asyncio.Queue[StateChange] = asyncio.Queue(self._maxsize)
        self._queues.append(queue)
        return queue

    async def publish(self, event: StateChange) -> None:
        for queue in self._queues:
            await queue.put(event)
