"""ONVIF: the device service answers GetSystemDateAndTime; the clock offset goes into the reason.

ONVIF lets anyone read the clock, but some firmwares (some Axis, some third-party servers) demand a
login even for that. A device that answers "not authorized" is answering, so it is up:

- with a user name and password stored, the clock is read again with them (WS-Security, and HTTP
  Digest when challenged), so the offset is still reported;
- without one, the reason says ``login required; no clock``;
- when the stored credentials are refused, the reason starts with ``auth_failed``: the engineer is
  warned, but a wrong password is not an outage.

The request goes to the device service address stored at onboarding, pinned to the registered
address (:mod:`provisioning.onvif.stored`). Every device shares one :class:`DeviceClockReader`.
A camera far off drifts out of WS-Security's window: that is why the offset matters. Past
``clock_drift_warn_s`` the result is a warning (up, reason ``clock_drift: clock +900.0s, beyond
±300s``): recordings carry wrong times and logins start failing, but the camera is not down.
"""

from __future__ import annotations

import time

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import AuthFailed, DeviceError
from provisioning.onvif.client import DeviceClock, DeviceClockReader
from provisioning.onvif.stored import StoredCamera

LOGIN_REQUIRED_NO_CLOCK = "login required; no clock"


CLOCK_DRIFT = "clock_drift"


def _clock_reason(clock: DeviceClock) -> str:
    return "no device clock in answer" if clock.offset_s is None else f"clock {clock.offset_s:+.1f}s"


class OnvifCheck:
    name = "onvif"

    def __init__(self, reader: DeviceClockReader, *, clock_drift_warn_s: float | None = None) -> None:
        self.reader = reader
        self.clock_drift_warn_s = clock_drift_warn_s

    def _answered(self, clock: DeviceClock) -> CheckResult:
        offset, limit = clock.offset_s, self.clock_drift_warn_s
        if offset is not None and limit is not None and abs(offset) > limit:
            reason = f"{_clock_reason(clock)}, beyond ±{limit:.0f}s"
            return CheckResult.warning(self.name, clock.latency_ms, CLOCK_DRIFT, reason)
        return CheckResult.success(self.name, clock.latency_ms, _clock_reason(clock))

    async def run(self, target: DeviceTarget) -> CheckResult:
        url = StoredCamera.of(target.device_id, target.attributes).device_url(target.address, target.port)
        started = time.perf_counter()
        try:
            clock = await self.reader.read(url)
        except AuthFailed:
            answered_ms = round((time.perf_counter() - started) * 1000, 1)
            return await self._with_login(target, url, answered_ms)
        except DeviceError as error:
            return CheckResult.failure(self.name, error)
        return self._answered(clock)

    async def _with_login(self, target: DeviceTarget, url: str, answered_ms: float) -> CheckResult:
        """The device answered "log in first": it is up; read its clock with the stored login if any."""
        credential = target.credential
        if not isinstance(credential, UsernamePasswordCredential):
            return CheckResult.success(self.name, answered_ms, LOGIN_REQUIRED_NO_CLOCK)
        try:
            clock = await self.reader.read(url, credential.username, credential.password)
        except AuthFailed:
            return CheckResult.warning(
                self.name,
                answered_ms,
                "auth_failed",
                "stored credentials refused (wrong, or the device clock is far off); no clock",
            )
        except DeviceError as error:
            return CheckResult.success(self.name, answered_ms, f"login required; no clock ({error.kind})")
        return self._answered(clock)
