"""MQTT freshness: a device that only publishes is up while its messages keep arriving.

The MQTT ingest owns the last-seen times; this check takes a lookup so it needs no broker connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceTimeout, DeviceUnreachable

LastSeen = Callable[[int], Awaitable[datetime | None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MqttFreshnessCheck:
    name = "mqtt_freshness"

    def __init__(
        self,
        last_seen: LastSeen,
        publish_interval_s: float,
        *,
        missed_intervals: int = 3,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if publish_interval_s <= 0:
            raise ValueError("publish_interval_s: must be positive")
        if missed_intervals < 1:
            raise ValueError("missed_intervals: must be at least 1")
        self.last_seen = last_seen
        self.max_age_s = publish_interval_s * missed_intervals
        self.clock = clock

    async def run(self, target: DeviceTarget) -> CheckResult:
        seen = await self.last_seen(target.device_id)
        if seen is None:
            return CheckResult.failure(self.name, DeviceUnreachable("no MQTT message ever received"))
        age = (self.clock() - seen).total_seconds()
        if age > self.max_age_s:
            return CheckResult.failure(
                self.name, DeviceTimeout(f"last MQTT message {age:.0f}s ago (limit {self.max_age_s:.0f}s)")
            )
        return CheckResult.success(self.name, None, f"last message {age:.0f}s ago")
