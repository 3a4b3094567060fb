"""MQTT freshness: a device that only publishes is up while its messages keep arriving.

The MQTT ingest owns the last-seen times; this check takes a lookup so it needs no broker connection.
A device never heard from counts from ``watching_since`` (when the monitors started) instead: right
after a start its first message may simply not have come yet, and paging every sensor of a fleet
for that is noise; one still silent a freshness limit later fails as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from device_registry.models.types import utcnow
from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceTimeout, DeviceUnreachable

LastSeen = Callable[[int], Awaitable[datetime | None]]


class MqttFreshnessCheck:
    name = "mqtt_freshness"

    def __init__(
        self,
        last_seen: LastSeen,
        publish_interval_s: float,
        *,
        missed_intervals: int = 3,
        clock: Callable[[], datetime] = utcnow,
        watching_since: datetime | None = None,
    ) -> None:
        if publish_interval_s <= 0:
            raise ValueError("publish_interval_s: must be positive")
        if missed_intervals < 1:
            raise ValueError("missed_intervals: must be at least 1")
        self.last_seen = last_seen
        self.max_age_s = publish_interval_s * missed_intervals
        self.clock = clock
        self.watching_since = watching_since

    async def run(self, target: DeviceTarget) -> CheckResult:
        seen = await self.last_seen(target.device_id)
        if seen is None:
            watched = (self.clock() - self.watching_since).total_seconds() if self.watching_since else None
            if watched is not None and watched <= self.max_age_s:
                return CheckResult.success(self.name, None, f"no message yet (watching for {watched:.0f}s)")
            return CheckResult.failure(self.name, DeviceUnreachable("no MQTT message ever received"))
        age = (self.clock() - seen).total_seconds()
        if age > self.max_age_s:
            return CheckResult.failure(
                self.name, DeviceTimeout(f"last MQTT message {age:.0f}s ago (limit {self.max_age_s:.0f}s)")
            )
        return CheckResult.success(self.name, None, f"last message {age:.0f}s ago")
