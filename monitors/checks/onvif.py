"""ONVIF: the device service answers GetSystemDateAndTime, the one call ONVIF allows without login.

Every device shares one :class:`DeviceClockReader` (WSDL parsed once, off the loop; one zeep client).
The clock offset goes into the reason: a camera far off drifts out of WS-Security's window.
"""

from __future__ import annotations

from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceError
from provisioning.onvif.client import DeviceClockReader

ONVIF_PORT = 80


class OnvifCheck:
    name = "onvif"

    def __init__(self, reader: DeviceClockReader) -> None:
        self.reader = reader

    async def run(self, target: DeviceTarget) -> CheckResult:
        try:
            clock = await self.reader.read(target.address, target.port or ONVIF_PORT)
        except DeviceError as error:
            return CheckResult.failure(self.name, error)
        reason = "no device clock in answer" if clock.offset_s is None else f"clock {clock.offset_s:+.1f}s"
        return CheckResult.success(self.name, clock.latency_ms, reason)
