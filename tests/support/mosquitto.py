"""A real Mosquitto from the platform's generated config, on a free loopback port in a temp folder.

Shared by the tests (the ``broker`` fixture in ``tests/support/fixtures.py``) and the benches.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import generate_key
from provisioning.mqtt.broker import BrokerFiles, ServiceUser
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.sync import sync_broker
from provisioning.mqtt.url import MqttUrl
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp
from tests.support.tsdb import INFLUX_DB

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

    def serve_env(self, tmp_path: Path, client_id: str, influx_url: str | None = None) -> dict[str, str]:
        """The environment of an ``ioc serve`` process ingesting from this broker as ``client_id``, with
        its home and the ``sessions`` fixture's registry in ``tmp_path``."""
        env = {
            "IOC_HOME": str(tmp_path / "home"),
            "IOC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
            "IOC_SECRET_KEY": generate_key().get_secret_value(),
            "IOC_MQTT_URL": f"mqtt://{INGEST_USER}:{self.ingest_password}@127.0.0.1:{self.port}?client_id={client_id}",
            "IOC_INFLUX_FLUSH_INTERVAL": "0.2",
        }
        if influx_url is not None:
            env |= {"IOC_INFLUX_URL": influx_url, "IOC_INFLUX_DATABASE": INFLUX_DB}
        return env

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


def start_broker(folder: Path) -> Broker:
    """Mosquitto with the ingest service user only; sensors are added by :meth:`Broker.sync`."""
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    port = free_port()
    files = BrokerFiles(folder / "mosquitto")
    password = generate_password()
    files.write_auth({}, [ServiceUser(INGEST_USER, hash_password(password))])
    user = getpass.getuser() if os.geteuid() == 0 else None
    config = files.write_config(port, run_as_user=user)
    process = ManagedProcess(
        [binary, "-c", str(config)], folder / "mosquitto.log", ready=lambda: wait_for_tcp(port)
    )
    process.start()
    return Broker(port, files, process, password)
