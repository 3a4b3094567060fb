"""What alerting needs to know about sites and devices, as two small protocols.

The registry owns sites and devices; alerting only asks questions (which subtree is this site in, what is
its path called, what is this device). Keeping that behind a protocol lets the registry implement it
with its materialised site paths, and lets tests and the benchmark use :class:`StaticDirectory`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: int
    name: str
    kind: str
    site_id: int
    site_codes: Sequence[str] = ()


class SiteDirectory(Protocol):
    async def exists(self, site_id: int) -> bool: ...

    async def ancestors(self, site_id: int) -> Sequence[int]:
        """Ids from the root (province) down to and including ``site_id``; empty if unknown."""
        ...

    async def path_names(self, site_id: int) -> Sequence[str]:
        """Display names along the same path, e.g. ``["Tỉnh Thái Bình", "Huyện Vũ Thư", "Xã Tân Hòa"]``."""
        ...


class DeviceDirectory(Protocol):
    async def device(self, device_id: int) -> DeviceInfo | None: ...


@dataclass(frozen=True, slots=True)
class SiteEntry:
    name: str
    parent_id: int | None = None
    code: str = ""


@dataclass
class StaticDirectory:
    """Sites and devices held in memory: for tests, the benchmark, and a deployment without a registry."""

    sites: Mapping[int, SiteEntry] = field(default_factory=dict)
    devices: Mapping[int, DeviceInfo] = field(default_factory=dict)

    async def exists(self, site_id: int) -> bool:
        return site_id in self.sites

    async def ancestors(self, site_id: int) -> Sequence[int]:
        chain: list[int] = []
        current: int | None = site_id
        while current is not None and current in self.sites and current not in chain:
            chain.append(current)
            current = self.sites[current].parent_id
        return list(reversed(chain))

    async def path_names(self, site_id: int) -> Sequence[str]:
        return [self.sites[s].name for s in await self.ancestors(site_id)]

    async def device(self, device_id: int) -> DeviceInfo | None:
        return self.devices.get(device_id)
