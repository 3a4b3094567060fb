"""A fake network for state-machine tests: which devices answer, a fake clock, recorded events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitors.config import StatePolicy
from monitors.events import DeviceState, StateChange
from monitors.outages import MemoryOutageRecorder
from monitors.state import MaintenanceOracle, Observation, OutageRecorder, StateEngine
from monitors.topology import Topology

T0 = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=29)
"""08:00 UTC on a day a month ago: derived from the clock, so no test ages with the calendar."""


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordedEvents:
    def __init__(self) -> None:
        self.events: list[StateChange] = []

    async def publish(self, event: StateChange) -> None:
        self.events.append(event)

    def pairs(self) -> list[tuple[int, DeviceState]]:
        return [(e.device_id, e.current) for e in self.events]

    def alerts(self) -> list[StateChange]:
        """What a person would be paged for: DOWN or FLAPPING outside maintenance."""
        return [
            e
            for e in self.events
            if e.current in (DeviceState.DOWN, DeviceState.FLAPPING) and not e.in_maintenance
        ]


@dataclass
class World:
    """Devices are alive unless marked dead; the engine's on-demand parent checks ask this world."""

    topology: dict[int, tuple[int, ...]] = field(default_factory=dict)
    policy: StatePolicy = field(default_factory=lambda: StatePolicy(fail_threshold=3, recover_threshold=2))
    maintenance: MaintenanceOracle | None = None
    dead: set[int] = field(default_factory=set)
    parent_checks: list[int] = field(default_factory=list)
    store: OutageRecorder | None = None
    """Also record outages here (e.g. the SQL recorder), besides the in-memory ``recorder``."""

    def __post_init__(self) -> None:
        self.clock = FakeClock()
        self.events = RecordedEvents()
        self.recorder = MemoryOutageRecorder()
        self.rechecks: list[int] = []
        self.engine = StateEngine(
            self.events,
            clock=self.clock,
            topology=Topology(self.topology),
            default_policy=self.policy,
            parent_checker=self._parent_check,
            maintenance=self.maintenance,
            recorder=self.store or self.recorder,
            recheck_hint=self.rechecks.extend,
            parent_check_fresh_s=5,
        )

    async def _parent_check(self, device_id: int) -> Observation:
        self.parent_checks.append(device_id)
        return self._observe(device_id)

    def _observe(self, device_id: int) -> Observation:
        return Observation(False, "timeout") if device_id in self.dead else Observation(True)

    async def check(self, *device_ids: int, every: float = 1.0) -> None:
        for device_id in device_ids:
            await self.engine.observe(device_id, self._observe(device_id))
            self.clock.advance(every)

    async def check_rounds(self, rounds: int, *device_ids: int, every: float = 10.0) -> None:
        for _ in range(rounds):
            await self.check(*device_ids, every=0)
            self.clock.advance(every)
