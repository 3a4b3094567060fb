"""A real Mosquitto from the platform's generated config, on a free loopback port in a temp folder.

Shared by the tests (the ``broker`` fixture in ``tests/support/fixtures.py``) and the benches.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import generate_key
from provisioning.mqtt.broker import BrokerFiles, ServiceUser, reload_broker
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.sync import sync_broker
from provisioning.mqtt.topics import INGEST_KINDS
from provisioning.mqtt.url import MqttUrl
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp
from tests.support.tsdb import INFLUX_DB
from tests.support.waits import wait_until, wait_until_sync

INGEST_USER = "ioc-ingest"


def log_subscriptions(config: Path) -> None:
    """Add ``log_type subscribe`` to a generated ``mosquitto.conf`` (before the broker starts): Mosquitto
    then logs ``<time>: <client id> <qos> <filter>`` right after it added a subscription, and before its
    SUBACK, so a test can wait for that line instead of sleeping "SUBSCRIBE follows CONNECT". The
    product's config leaves it out: one line per subscription is noise in production."""
    with config.open("a") as file:
        file.write("log_type subscribe\n")


def subscriptions(log: Path, client_id: str) -> int:
    """How many subscriptions the broker logging to ``log`` has granted ``client_id``, over all its
    connections (and broker restarts: the log is appended to)."""
    pattern = re.compile(rf"^\d+: {re.escape(client_id)} [0-2] \S", re.MULTILINE)
    return len(pattern.findall(log.read_text(errors="replace")))


def wait_ingest_subscribed(log: Path, client_id: str, connections: int = 1, within: float = 60.0) -> None:
    """Until the ingest ``client_id`` subscribed to all its topics for the ``connections``-th time: a
    message published after this reaches it (the ingest subscribes to each kind in turn)."""
    wanted = connections * len(INGEST_KINDS)
    wait_until_sync(
        lambda: subscriptions(log, client_id) >= wanted,
        within,
        f"ingest {client_id!r}: {wanted} subscriptions in the broker log",
        detail=lambda: log.read_text(errors="replace")[-3000:],
    )


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

    def wait_ingest_subscribed(self, client_id: str, connections: int = 1, within: float = 60.0) -> None:
        wait_ingest_subscribed(self.process.log_path, client_id, connections, within)

    def publishes_sent(self, client_id: str) -> int:
        """First sends of a PUBLISH to ``client_id`` (needs ``log_type debug``, see :meth:`log_also`).
        Mosquitto sends a message on to its subscribers before it acknowledges the publisher, so once
        a QoS 1 publish returned, this count includes it."""
        needle = f"Sending PUBLISH to {client_id} (d0,"
        return self.process.log_path.read_text(errors="replace").count(needle)

    async def log_also(self, log_type: str) -> None:
        """Add a ``log_type`` (``debug``: every packet) to the running broker; Mosquitto re-reads it on
        SIGHUP. Only for tests that count packets: ``debug`` logs every one of them."""
        with self.files.config_file.open("a") as file:
            file.write(f"log_type {log_type}\n")
        before = self.reloads()
        reload_broker(self.pid)
        await self.wait_reloaded(before)

    def reloads(self) -> int:
        return self.process.log_path.read_text(errors="replace").count("Reloading config")

    async def sync(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Push credentials and wait until the broker logged the reload."""
        before = self.reloads()
        await sync_broker(sessions, self.files, self.service_users, self.pid)
        await self.wait_reloaded(before)

    async def wait_reloaded(self, before: int) -> None:
        """Until the broker logged a reload since it had logged ``before`` (:meth:`reloads`)."""
        await wait_until(
            lambda: self.reloads() > before, 10, "the broker's config reload", detail=self.process.log_tail
        )


def start_broker(folder: Path) -> Broker:
    """Mosquitto with the ingest service user only; sensors are added by :meth:`Broker.sync`."""
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    port = free_port()
    files = BrokerFiles(folder / "mosquitto")
    password = generate_password()
    files.write_auth({}, [ServiceUser(INGEST_USER, hash_password(password))])
    user = getpass.getuser() if os.geteuid() == 0 else None
    config = files.write_config(port, run_as_user=user)
    log_subscriptions(config)
    process = ManagedProcess(
        [binary, "-c", str(config)], folder / "mosquitto.log", ready=lambda: wait_for_tcp(port)
    )
    process.start()
    return Broker(port, files, process, password)
