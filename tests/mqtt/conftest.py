"""A real SQLite database with the MQTT tables, and onboarded sensors (Mosquitto: ``tests/support/mosquitto.py``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Device, Site, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from ioc.migrate import upgrade
from provisioning.mqtt.onboard import onboard_sensor


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real migrations (registry + mqtt_0001) applied once; each test copies the file."""
    path = tmp_path_factory.mktemp("mqtt-db") / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sessions(
    migrated_template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    target = tmp_path / "registry.db"
    shutil.copy(migrated_template, target)
    engine = create_engine(f"sqlite+aiosqlite:///{target}")
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
