"""The one small collector interface: a protocol client's results in, points out."""

from __future__ import annotations

from typing import Protocol, TypeVar

from device_registry.targets import DeviceTarget
from telemetry.points import Point

T_contra = TypeVar("T_contra", bound=DeviceTarget, contravariant=True)


class Collector(Protocol[T_contra]):
    """Polls one device and returns its points.

    Raises a ``provisioning.errors.DeviceError`` subclass when the device does not answer; the cycle
    runner contains that failure to the device and logs it once on change.
    """

    name: str

    async def collect(self, target: T_contra) -> list[Point]: ...
