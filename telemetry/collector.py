"""The one small collector interface: a protocol client's results in, points out.

Collectors subclass :class:`Collector` (a Protocol, so the defaults below are inherited) and keep to
one job: poll a device and turn what it said into points. They raise, they do not log: a device that
fails raises a ``provisioning.errors.DeviceError`` (the protocol client's typed error, or one that
keeps its ``kind`` and ``retryable``), and :class:`telemetry.cycle.CycleRunner` alone contains the
failure to that device, records its state and logs it once when the state changes.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from device_registry.targets import DeviceTarget
from telemetry.points import Point

T_contra = TypeVar("T_contra", bound=DeviceTarget, contravariant=True)


class Collector(Protocol[T_contra]):
    """Polls one device and returns its points."""

    name: str
    """The ``collector`` tag of the runner's self-metrics (``collector_poll``, ``collector_cycle``)."""

    async def collect(self, target: T_contra) -> list[Point]:
        """The device's points; raises a ``DeviceError`` when the device does not give them."""
        ...

    def points_on_failure(self, target: T_contra, error: Exception) -> list[Point]:
        """Points the runner writes for a device whose ``collect`` failed (e.g. ``up=0``).

        ``error`` is what ``collect`` raised, a ``DeviceTimeout`` when the runner's deadline cut the
        poll, or, for a collector bug, the exception itself. Default: nothing.
        """
        return []

    def forget(self, device_id: int) -> None:
        """The device left the target list: drop whatever the collector keeps about it (counters)."""
        return None
