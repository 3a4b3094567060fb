"""Push the registry's MQTT credentials to the broker: regenerate the files, then reload it."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.broker import BrokerFiles, ServiceUser, reload_broker
from provisioning.mqtt.credentials import active_credentials


async def sync_broker(
    sessions: async_sessionmaker[AsyncSession],
    files: BrokerFiles,
    service_users: list[ServiceUser],
    broker_pid: int | None,
) -> int:
    """Returns how many devices the broker now accepts. ``broker_pid`` None: write files only."""
    devices = await active_credentials(sessions)
    await asyncio.to_thread(files.write_auth, devices, service_users)
    if broker_pid is not None:
        reload_broker(broker_pid)
    return len(devices)
