"""Maintenance windows: when a device, or everything under a site, is expected to be down.

Checks keep running and outages are still recorded during a window; events carry ``in_maintenance``
so alerting stays quiet, and the SLA excludes the window. Recurring windows are cron expressions in
the window's own time zone; occurrences come from APScheduler's ``CronTrigger`` (already a dependency,
and the same cron dialect operators use for jobs) rather than a second cron library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from monitors.intervals import Interval, merge
from monitors.sla import MaintenanceLookup

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_MAX_OCCURRENCES = 100_000
"""A guard against a per-minute cron over a decade; far beyond any real SLA period."""
MAX_DURATION_S = 31 * 86_400
"""A recurring window longer than a month is a one-off window written the wrong way."""


class MaintenanceError(ValueError):
    """A window that cannot mean anything; the message names the offending field."""


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One-off (``starts_at``..``ends_at``) or recurring (``cron`` + ``duration_s``, optionally bounded
    by ``starts_at``/``ends_at``) maintenance on one device or one site subtree."""

    reason: str
    owner: str
    device_id: int | None = None
    site_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = None
    duration_s: float | None = None
    timezone: str = DEFAULT_TIMEZONE
    id: int | None = None

    def __post_init__(self) -> None:
        if (self.device_id is None) == (self.site_id is None):
            raise MaintenanceError("device_id/site_id: exactly one of them must be set")
        if not self.reason.strip():
            raise MaintenanceError("reason: must not be empty")
        if not self.owner.strip():
            raise MaintenanceError("owner: must not be empty")
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise MaintenanceError(f"{name}: must be timezone-aware")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise MaintenanceError("ends_at: must be after starts_at")
        if self.cron is None:
            if self.starts_at is None or self.ends_at is None:
                raise MaintenanceError("starts_at/ends_at: a one-off window needs both (or give cron)")
            if self.duration_s is not None:
                raise MaintenanceError("duration_s: only for recurring (cron) windows")
        else:
            if self.duration_s is None or not math.isfinite(self.duration_s) or self.duration_s <= 0:
                raise MaintenanceError("duration_s: a recurring window needs a positive, finite duration")
            if self.duration_s > MAX_DURATION_S:
                raise MaintenanceError(f"duration_s: at most {MAX_DURATION_S} s (31 days)")
            try:
                self.trigger()
            except (ValueError, KeyError, LookupError) as error:
                raise MaintenanceError(f"cron: {error}") from error

    def values(self) -> dict[str, Any]:
        """Every field by name, ``id`` included. The stored row, the API's and the CLI's views and the
        audit snapshot all copy from here, so a new field is added in one place."""
        return {name: getattr(self, name) for name in WINDOW_FIELDS}

    def trigger(self) -> CronTrigger:
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=self.timezone)

    def occurrences(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Every stretch of this window that overlaps ``[start, end)``, clipped to it."""
        if self.cron is None:
            assert self.starts_at is not None and self.ends_at is not None
            if self.starts_at < end and self.ends_at > start:
                yield max(self.starts_at, start), min(self.ends_at, end)
            return
        assert self.duration_s is not None
        length = timedelta(seconds=self.duration_s)
        lower = max(start, self.starts_at) if self.starts_at else start
        upper = min(end, self.ends_at) if self.ends_at else end
        trigger = self.trigger()
        fire = trigger.get_next_fire_time(None, lower - length)
        for _ in range(_MAX_OCCURRENCES):
            if fire is None or fire >= upper:
                return
            window_end = fire + length
            if window_end > lower:
                yield max(fire, lower), min(window_end, upper)
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))

    def active_at(self, at: datetime) -> bool:
        return any(True for _ in self.occurrences(at, at + timedelta(microseconds=1)))


WINDOW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MaintenanceWindow))
"""The columns a window is stored in, named as the fields of :class:`MaintenanceWindow`."""


class MaintenanceCalendar:
    """Answers 'is this device in maintenance' from windows plus where devices sit in the site tree.

    ``site_of`` maps device -> site and ``site_parent`` site -> parent site; both come from the registry
    and are replaced as it changes (a device moved to another site falls under that site's windows).
    """

    def __init__(
        self,
        windows: Iterable[MaintenanceWindow] = (),
        *,
        site_of: Mapping[int, int] | None = None,
        site_parent: Mapping[int, int | None] | None = None,
        devices_in_maintenance: Iterable[int] = (),
    ) -> None:
        self._windows = list(windows)
        self._site_of = dict(site_of or {})
        self._site_parent = dict(site_parent or {})
        self._always = frozenset(devices_in_maintenance)

    def set_devices_in_maintenance(self, device_ids: Iterable[int]) -> None:
        """Devices the registry marks as in maintenance (lifecycle), open-ended: no alerts while so."""
        self._always = frozenset(device_ids)

    def set_windows(self, windows: Iterable[MaintenanceWindow]) -> None:
        self._windows = list(windows)

    def move_device(self, device_id: int, site_id: int) -> None:
        self._site_of[device_id] = site_id

    def set_sites(self, site_of: Mapping[int, int], site_parent: Mapping[int, int | None]) -> None:
        self._site_of = dict(site_of)
        self._site_parent = dict(site_parent)

    def site_chain(self, device_id: int) -> list[int]:
        """The device's site and every site above it, nearest first."""
        chain: list[int] = []
        site = self._site_of.get(device_id)
        while site is not None and site not in chain:
            chain.append(site)
            site = self._site_parent.get(site)
        return chain

    def windows_for(self, device_id: int) -> list[MaintenanceWindow]:
        sites = set(self.site_chain(device_id))
        return [w for w in self._windows if w.device_id == device_id or (w.site_id in sites)]

    def covers(self, device_id: int, at: datetime) -> bool:
        if device_id in self._always:
            return True
        return any(w.active_at(at) for w in self.windows_for(device_id))

    def intervals_for(self, device_id: int, start: datetime, end: datetime) -> list[Interval]:
        """Merged window time of ``device_id`` within ``[start, end)`` (its current site placement).

        Lifecycle maintenance has no recorded span, so only windows count here."""
        return merge(i for w in self.windows_for(device_id) for i in w.occurrences(start, end))

    def report_lookup(self, start: datetime, end: datetime) -> MaintenanceLookup:
        """``intervals_for`` for one report: each window's occurrences in ``[start, end)`` are computed
        once, not once per device under it (a site window over a thousand devices, a per-minute cron).

        Pure CPU work: the caller runs it off the event loop."""
        spans = {id(w): list(w.occurrences(start, end)) for w in self._windows}

        def lookup(device_id: int, lo: datetime, hi: datetime) -> list[Interval]:
            if (lo, hi) != (start, end):
                return self.intervals_for(device_id, lo, hi)
            return merge(i for w in self.windows_for(device_id) for i in spans[id(w)])

        return lookup
