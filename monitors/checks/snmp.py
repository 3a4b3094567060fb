"""SNMP: the agent answers a GET of sysUpTime with the device's own credential.

One :class:`SnmpClient` (one dispatcher) serves every device; it is created on the loop at the first
check, because pysnmp's dispatcher binds to the running loop. sysUpTime is remembered per device so a
value that went backwards is reported: the device is up, but it restarted since the last check.
"""

from __future__ import annotations

import time

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceError, MalformedResponse, NotSupported
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.mib import SYS_UPTIME
from provisioning.snmp.models import SnmpEndpoint


def _uptime(ticks: int) -> str:
    seconds = ticks // 100
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


class SnmpUptimeCheck:
    name = "snmp"

    def __init__(self, timeout_s: float = 2.0, retries: int = 1) -> None:
        """``timeout_s`` bounds the whole check: each of the ``retries + 1`` tries gets its share of 90%
        of it, so the typed timeout is ours and not the scheduler's "no verdict in time"."""
        if timeout_s <= 0:
            raise ValueError("timeout_s: must be positive")
        self.request_timeout_s = 0.9 * timeout_s / (retries + 1)
        self.retries = retries
        self._client: SnmpClient | None = None
        self._last_ticks: dict[int, int] = {}

    async def run(self, target: DeviceTarget) -> CheckResult:
        credential = target.credential
        if not isinstance(credential, SnmpCommunityCredential | SnmpV3Credential):
            return CheckResult.failure(self.name, NotSupported("device has no SNMP credential"))
        try:
            endpoint = SnmpEndpoint(
                target.address,
                credential,
                port=target.port or SnmpEndpoint.DEFAULT_PORT,
                timeout=self.request_timeout_s,
                retries=self.retries,
            )
        except ValueError as error:
            return CheckResult.failure(self.name, NotSupported(str(error)))
        if self._client is None:
            self._client = SnmpClient()
        started = time.perf_counter()
        try:
            answer = await self._client.get_one(endpoint, SYS_UPTIME)
            if not isinstance(answer.value, int):
                raise MalformedResponse(f"{endpoint.label}: sysUpTime is {answer.kind}, not TimeTicks")
        except DeviceError as error:
            return CheckResult.failure(self.name, error)
        latency = (time.perf_counter() - started) * 1000
        ticks = answer.value
        previous = self._last_ticks.get(target.device_id)
        self._last_ticks[target.device_id] = ticks
        if previous is not None and ticks < previous:
            reason = (
                f"sysUpTime went backwards ({_uptime(previous)} -> {_uptime(ticks)}): "
                "the device restarted since the last check (or its 497-day counter wrapped)"
            )
        else:
            reason = f"up {_uptime(ticks)}"
        return CheckResult.success(self.name, latency, reason)

    def forget(self, keep: set[int]) -> None:
        """Drop remembered uptimes of devices no longer checked."""
        for device_id in set(self._last_ticks) - keep:
            del self._last_ticks[device_id]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
