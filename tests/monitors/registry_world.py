"""A small registry for monitors tests: province P > districts D1, D2 > communes A, A2 (D1), B (D2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import DeviceKind, Lifecycle, SiteKind
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_device
from device_registry.services.sites import create_site

ADMIN = Principal.system("monitors-test")
TREE = {
    "P": ("Tỉnh Thử", SiteKind.PROVINCE, None),
    "D1": ("Huyện Vũ Thư", SiteKind.DISTRICT, "P"),
    "D2": ("Huyện Đông Hưng", SiteKind.DISTRICT, "P"),
    "A": ("Xã Hồng Lý", SiteKind.COMMUNE, "D1"),
    "A2": ("Xã Song An", SiteKind.COMMUNE, "D1"),
    "B": ("Xã Đông Các", SiteKind.COMMUNE, "D2"),
}


@dataclass
class Registry:
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox = field(default_factory=lambda: SecretBox(generate_key()))
    sites: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)

    async def add_device(
        self,
        name: str,
        kind: DeviceKind,
        site: str,
        address: str | None = "127.0.0.1",
        uplinks: tuple[str, ...] = (),
        **extra: Any,
    ) -> int:
        async with self.sessions() as session, session.begin():
            device = await create_device(
                session,
                ADMIN,
                self.box,
                DeviceCreate(
                    name=name,
                    kind=kind,
                    site_code=site,
                    address=address,
                    uplink_ids=[self.devices[u] for u in uplinks],
                    **extra,
                ),
            )
            self.devices[name] = device.id
            return device.id


@asynccontextmanager
async def registry(db_url: str) -> AsyncIterator[Registry]:
    engine = create_engine(db_url)
    world = Registry(session_factory(engine))
    try:
        async with world.sessions() as session, session.begin():
            for code, (name, kind, parent) in TREE.items():
                site = await create_site(
                    session, ADMIN, SiteCreate(code=code, name=name, kind=kind, parent_code=parent)
                )
                world.sites[code] = site.id
        yield world
    finally:
        await engine.dispose()


__all__ = ["ADMIN", "DeviceKind", "Lifecycle", "Registry", "registry"]


async def update(reg: Registry, name: str, **changes: Any) -> None:
    from device_registry.schemas.devices import DeviceUpdate
    from device_registry.services.devices import update_device

    async with reg.sessions() as session, session.begin():
        await update_device(session, ADMIN, reg.box, reg.devices[name], DeviceUpdate(**changes))


async def set_attributes(reg: Registry, name: str, attributes: dict[str, Any]) -> None:
    from device_registry.models import Device

    async with reg.sessions() as session, session.begin():
        device = await session.get(Device, reg.devices[name])
        assert device is not None
        device.attributes = attributes
