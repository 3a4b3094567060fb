"""A real SQLite database with the MQTT tables, and onboarded sensors (Mosquitto: ``tests/support/mosquitto.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Device, Site, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from provisioning.mqtt.onboard import onboard_sensor


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database of this test's own (the root ``sqlite_url``)."""
    engine = create_engine(sqlite_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


ADMIN = Principal.system("test-mqtt")


async def onboard(sessions: async_sessionmaker[AsyncSession], count: int) -> list[tuple[int, str]]:
    """``count`` sensors onboarded in commune ``X1``: (device id, password shown once)."""
    box = SecretBox(generate_key())
    out: list[tuple[int, str]] = []
    async with sessions() as session, session.begin():
        if await session.scalar(select(Site.id).where(Site.code == "X1")) is None:
            await create_site(session, ADMIN, SiteCreate(code="X1", name="Xã Một", kind=SiteKind.COMMUNE))
        taken = len((await session.execute(select(Device.id))).all())
        for index in range(count):
            sensor = await onboard_sensor(session, ADMIN, box, f"sensor-{taken + index}", "X1")
            out.append((sensor.device_id, sensor.password.get_secret_value()))
    return out
