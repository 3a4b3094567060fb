"""A small registry for monitors tests: the registry tests' tree (province P > districts D1, D2 > communes
A, A2 (D1), B (D2)) and the devices each test adds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import DeviceKind, Lifecycle
from device_registry.schemas.devices import DeviceCreate
from device_registry.services.devices import create_device
from tests.registry.seed import TREE, create_sites

ADMIN = Principal.system("monitors-test")


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
            world.sites = await create_sites(session, ADMIN, TREE)
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
