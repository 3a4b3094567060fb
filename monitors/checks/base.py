"""The one check interface and its typed result.

A check never raises for a device that fails: the failure is a result carrying the typed error's
``kind`` (``provisioning.errors``), so the scheduler treats every device alike and one device's
failure stays contained. Exceptions out of ``run`` are bugs; the scheduler logs them as ``check_error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from device_registry.targets import DeviceTarget
from provisioning.errors import DeviceError


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    ok: bool
    latency_ms: float | None = None
    reason: str = ""
    error_kind: str | None = None
    """``DeviceError.kind`` of the failure (``timeout``, ``unreachable``, ...); when ok, ``None`` or the
    kind of a warning that is not an outage (``auth_failed`` from a device that answered)."""

    @classmethod
    def success(cls, check: str, latency_ms: float | None, reason: str = "") -> CheckResult:
        return cls(check, True, latency_ms, reason)

    @classmethod
    def warning(cls, check: str, latency_ms: float | None, kind: str, reason: str) -> CheckResult:
        """Up, but something the engineer should fix: the reason starts with ``kind``."""
        return cls(check, True, latency_ms, f"{kind}: {reason}", kind)

    @classmethod
    def failure(cls, check: str, error: DeviceError, latency_ms: float | None = None) -> CheckResult:
        return cls(check, False, latency_ms, f"{check}: {error.message}", error.kind)


class Check(Protocol):
    name: str

    async def run(self, target: DeviceTarget) -> CheckResult: ...
