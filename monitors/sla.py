"""Uptime % over a period, per device and for a set of devices (a site subtree, a kind).

Downtime is the union of the device's outages (DOWN and, by default, UNREACHABLE: the operator cannot
see the device either way) clipped to the period; maintenance time is removed from both the monitored
time and the downtime. A group's figure is time-weighted: total up time over total monitored time,
so a device under maintenance half the period weighs half.

The caller chooses the device set (site subtree resolution lives in the registry), so this module is
pure arithmetic over records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitors.intervals import Interval, clip, seconds, subtract
from monitors.outages import OutageRecord

MaintenanceLookup = Callable[[int, datetime, datetime], list[Interval]]


@dataclass(frozen=True, slots=True)
class Availability:
    name: str
    period_s: float
    maintenance_s: float
    monitored_s: float
    down_s: float
    devices: int = 1

    @property
    def up_s(self) -> float:
        return self.monitored_s - self.down_s

    @property
    def uptime_pct(self) -> float | None:
        """``None`` when nothing was monitored (the whole period was maintenance)."""
        return None if self.monitored_s <= 0 else 100.0 * self.up_s / self.monitored_s

    def as_row(self) -> dict[str, object]:
        pct = self.uptime_pct
        return {
            "name": self.name,
            "devices": self.devices,
            "period_s": round(self.period_s, 3),
            "maintenance_s": round(self.maintenance_s, 3),
            "monitored_s": round(self.monitored_s, 3),
            "down_s": round(self.down_s, 3),
            "uptime_pct": None if pct is None else round(pct, 4),
        }


def device_availability(
    device_id: int,
    outages: Iterable[OutageRecord],
    maintenance: Iterable[Interval],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    count_unreachable: bool = True,
) -> Availability:
    if end <= start:
        raise ValueError("to: must be after from")
    period: list[Interval] = [(start, end)]
    quiet = clip(maintenance, start, end)
    spans = [
        (o.start, o.end or now)
        for o in outages
        if o.device_id == device_id and (count_unreachable or o.is_root)
    ]
    down = subtract(clip(spans, start, end), quiet)
    period_s = seconds(period)
    maintenance_s = seconds(quiet)
    return Availability(str(device_id), period_s, maintenance_s, period_s - maintenance_s, seconds(down))


def group_availability(name: str, members: Sequence[Availability]) -> Availability:
    return Availability(
        name,
        period_s=sum(m.period_s for m in members),
        maintenance_s=sum(m.maintenance_s for m in members),
        monitored_s=sum(m.monitored_s for m in members),
        down_s=sum(m.down_s for m in members),
        devices=len(members),
    )


@dataclass(frozen=True, slots=True)
class SlaReport:
    start: datetime
    end: datetime
    devices: list[Availability]
    groups: list[Availability]


def sla_report(
    groups: Mapping[str, Iterable[int]],
    outages: Iterable[OutageRecord],
    maintenance: MaintenanceLookup,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    count_unreachable: bool = True,
) -> SlaReport:
    """Uptime for each device named in ``groups`` and for each group (e.g. ``{"site HN": {...}}``)."""
    by_device: dict[int, list[OutageRecord]] = {}
    for outage in outages:
        by_device.setdefault(outage.device_id, []).append(outage)
    wanted = sorted({d for members in groups.values() for d in members})
    devices = {
        d: device_availability(
            d,
            by_device.get(d, ()),
            maintenance(d, start, end),
            start,
            end,
            now=now,
            count_unreachable=count_unreachable,
        )
        for d in wanted
    }
    summary = [group_availability(name, [devices[d] for d in sorted(set(m))]) for name, m in groups.items()]
    return SlaReport(start, end, [devices[d] for d in wanted], summary)
