"""The platform's own Mosquitto (IOC_HOME/mosquitto): where its files are and how credentials reach it.

Shared by the CLI (`ioc onboard mqtt`, `ioc mqtt …`) and the REST API, so both push a change to the
broker the same way: regenerate the password and ACL files from the registry, SIGHUP the broker.
"""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ioc.settings import Settings
from provisioning.mqtt.broker import BrokerFiles, ServiceUser, check_service_username
from provisioning.mqtt.passwords import hash_password
from provisioning.mqtt.sync import sync_broker


class BrokerNotConfigured(Exception):
    """IOC_MQTT_URL lacks the platform user's name or password."""


def broker_files(settings: Settings) -> BrokerFiles:
    return BrokerFiles(settings.home / "mosquitto")


def service_users(settings: Settings) -> list[ServiceUser]:
    url = settings.mqtt_url
    if url is None or not url.username or url.password is None:
        raise BrokerNotConfigured(
            "IOC_MQTT_URL must be set as mqtt://USER:PASSWORD@HOST:PORT (the platform's broker user)"
        )
    try:
        check_service_username(url.username)
    except ValueError as error:
        raise BrokerNotConfigured(f"IOC_MQTT_URL: {error}") from None
    return [ServiceUser(url.username, hash_password(url.password.get_secret_value()))]


def running_pid(files: BrokerFiles) -> int | None:
    try:
        pid = int(files.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


async def push_credentials(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> str:
    """Regenerate the broker's files and reload it; says what happened, for the operator."""
    files = broker_files(settings)
    if not files.config_file.exists():
        return "broker not set up here (run `ioc mqtt broker-config`); credentials saved in the registry"
    pid = running_pid(files)
    count = await sync_broker(sessions, files, service_users(settings), pid)
    return f"broker {'reloaded' if pid else 'files written (broker not running)'}: {count} sensors"
