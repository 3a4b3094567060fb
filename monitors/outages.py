"""Outage records as plain data, and the in-memory recorder (for tests, benches and a DB-less run).

The SQL recorder (``monitors.outage_store``) keeps the same records in the registry database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitors.events import DeviceState


@dataclass(slots=True)
class HistoryEntry:
    state: DeviceState
    at: datetime
    reason: str


@dataclass(slots=True)
class OutageRecord:
    id: int
    device_id: int
    root_cause_device_id: int
    start: datetime
    end: datetime | None = None
    affected_count: int = 0
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def is_root(self) -> bool:
        return self.root_cause_device_id == self.device_id

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


class MemoryOutageRecorder:
    """Implements ``monitors.state.OutageRecorder`` with a dict."""

    def __init__(self) -> None:
        self.outages: dict[int, OutageRecord] = {}

    async def open(
        self, device_id: int, root_cause_device_id: int, state: DeviceState, start: datetime, reason: str
    ) -> int:
        outage_id = len(self.outages) + 1
        record = OutageRecord(outage_id, device_id, root_cause_device_id, start)
        record.history.append(HistoryEntry(state, start, reason))
        self.outages[outage_id] = record
        return outage_id

    async def transition(
        self, outage_id: int, state: DeviceState, at: datetime, reason: str, root_cause_device_id: int
    ) -> None:
        record = self.outages[outage_id]
        record.root_cause_device_id = root_cause_device_id
        record.history.append(HistoryEntry(state, at, reason))

    async def set_affected(self, outage_id: int, count: int) -> None:
        self.outages[outage_id].affected_count = count

    async def close(self, outage_id: int, end: datetime, reason: str) -> None:
        record = self.outages[outage_id]
        record.end = end
        record.history.append(HistoryEntry(DeviceState.UP, end, reason))

    def open_outages(self) -> list[OutageRecord]:
        return [o for o in self.outages.values() if o.end is None]

    def roots(self) -> list[OutageRecord]:
        return [o for o in self.outages.values() if o.is_root]
