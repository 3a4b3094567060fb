"""A real Mosquitto from a generated config in tmp, and a real SQLite database for MQTT tables."""

from __future__ import annotations

import asyncio
import getpass
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import Base, create_engine, session_factory
from provisioning.mqtt.broker import BrokerFiles, ServiceUser
from provisioning.mqtt.credentials import MqttCredential
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.sync import sync_broker
from provisioning.mqtt.url import MqttUrl
from telemetry.ingest.deadletters import DeadLetter
from telemetry.ingest.lastseen import DeviceLastSeen
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

MQTT_TABLES = [Base.metadata.tables[m.__tablename__] for m in (MqttCredential, DeadLetter, DeviceLastSeen)]
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


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: Base.metadata.create_all(sync, tables=MQTT_TABLES))
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
