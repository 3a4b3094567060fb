"""A real Mosquitto from a generated config in tmp, and a real SQLite database for MQTT tables."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Device, Site, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from ioc.migrate import upgrade
from provisioning.mqtt.broker import BrokerFiles, ServiceUser
from provisioning.mqtt.onboard import onboard_sensor
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.sync import sync_broker
from provisioning.mqtt.url import MqttUrl
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

INGEST_USER = "ioc-ingest"


@dataclass
class Broker:
    port: int
    files: BrokerFiles
    process: ManagedProcess
    ingest_password: str

    @property
    def service_users(self) -> list[ServiceUser]:
        return [ServiceUser(INGEST_USER, hash_password(self.ingest_password))]

    @property
    def ingest_url(self) -> MqttUrl:
        return MqttUrl(
            host="127.0.0.1", port=self.port, username=INGEST_USER, password=SecretStr(self.ingest_password)
        )

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid

    def reloads(self) -> int:
        return self.process.log_path.read_text(errors="replace").count("Reloading config")

    async def sync(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Push credentials and wait until the broker logged the reload."""
        before = self.reloads()
        await sync_broker(sessions, self.files, self.service_users, self.pid)
        deadline = time.monotonic() + 10
        while self.reloads() <= before:
            assert time.monotonic() < deadline, self.process.log_tail()
            await asyncio.sleep(0.02)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    port = free_port()
    files = BrokerFiles(tmp_path / "mosquitto")
    password = generate_password()
    files.write_auth({}, [ServiceUser(INGEST_USER, hash_password(password))])
    user = getpass.getuser() if os.geteuid() == 0 else None
    config = files.write_config(port, run_as_user=user)
    process = ManagedProcess(
        [binary, "-c", str(config)], tmp_path / "mosquitto.log", ready=lambda: wait_for_tcp(port)
    )
    process.start()
    try:
        yield Broker(port, files, process, password)
    finally:
        process.stop()


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
