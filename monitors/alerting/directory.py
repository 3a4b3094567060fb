"""What alerting needs to know about sites and devices, as two small protocols and their registry answer.

Alerting only asks questions of the registry (which subtree is this site in, what is its path called,
what is this device); keeping them behind protocols keeps the one-way layering and makes the questions
explicit. :class:`RegistryDirectory` answers them from the registry's tables, using the materialised
site path (``/1/7/42/``) so a device's whole ancestry costs one query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry import site_paths
from device_registry.models import Device, Site


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: int
    name: str
    kind: str
    site_id: int
    site_codes: Sequence[str] = ()
    """Codes of the site and its ancestors, root first (Grafana tags)."""
    site_ids: Sequence[int] = ()
    """Ids of the same chain, root first: what routing matches subtrees against."""
    site_names: Sequence[str] = ()
    """Names of the same chain, root first: the path shown in messages."""


class SiteDirectory(Protocol):
    async def exists(self, site_id: int) -> bool: ...

    async def ancestors(self, site_id: int) -> Sequence[int]:
        """Ids from the root (province) down to and including ``site_id``; empty if unknown."""
        ...

    async def path_names(self, site_id: int) -> Sequence[str]:
        """Display names along the same path, e.g. ``["Tỉnh Thái Bình", "Huyện Vũ Thư", "Xã Tân Hòa"]``."""
        ...


class DeviceDirectory(Protocol):
    async def device(self, device_id: int) -> DeviceInfo | None:
        """The device with its whole site chain, in one call: it is asked once per new alert."""
        ...


class RegistryDirectory:
    """Both protocols, answered from the registry database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, cache_s: float = 30.0) -> None:
        self._sessions = sessions
        self._cache_s = cache_s
        self._chains: dict[str, tuple[float, list[tuple[int, str, str]]]] = {}
        """Site chains by materialised path: thousands of devices share a few hundred communes, and a
        renamed unit may take ``cache_s`` seconds to show in messages."""

    async def exists(self, site_id: int) -> bool:
        async with self._sessions() as session:
            return await session.get(Site, site_id) is not None

    async def ancestors(self, site_id: int) -> Sequence[int]:
        async with self._sessions() as session:
            path = await session.scalar(select(Site.path).where(Site.id == site_id))
        return site_paths.decode(path) if path else []

    async def _chain(self, session: AsyncSession, site_id: int, path: str | None = None) -> list[Site]:
        if path is None:
            path = await session.scalar(select(Site.path).where(Site.id == site_id))
        ids = site_paths.decode(path) if path else []
        sites = {s.id: s for s in await session.scalars(select(Site).where(Site.id.in_(ids)))}
        return [sites[i] for i in ids if i in sites]

    async def path_names(self, site_id: int) -> Sequence[str]:
        async with self._sessions() as session:
            return [site.name for site in await self._chain(session, site_id)]

    async def device(self, device_id: int) -> DeviceInfo | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Device, Site.path)
                    .join(Site, Site.id == Device.site_id)
                    .where(Device.id == device_id)
                )
            ).first()
            if row is None:
                return None
            device, path = row
            now = time.monotonic()
            cached = self._chains.get(path)
            if cached is None or now - cached[0] > self._cache_s:
                sites = await self._chain(session, device.site_id, path)
                cached = (now, [(s.id, s.code, s.name) for s in sites])
                self._chains[path] = cached
            chain = cached[1]
            return DeviceInfo(
                device.id,
                device.name,
                str(device.kind),
                device.site_id,
                site_codes=[code for _, code, _ in chain],
                site_ids=[site_id for site_id, _, _ in chain],
                site_names=[name for _, _, name in chain],
            )
