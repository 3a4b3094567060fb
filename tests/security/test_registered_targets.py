"""Registered devices are held to the management-network allowlist and to their credential's owning site
on every poll, not only when they are written: the real SNMP poller sends no packet to a device outside
the allowlist, nor a district's community string to a device the 2025 reform moved out of that district."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from device_registry.credentials import SnmpCommunityCredential
from device_registry.models import Device, DeviceKind, Protocol
from device_registry.schemas.devices import DeviceCreate
from device_registry.services.credentials import create_credential
from device_registry.services.devices import create_device
from ioc.snmp_poller import snmp_poller
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import EventBus
from monitors.registry_source import load_snapshot
from monitors.runner import RegistryMonitors
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.settings import SnmpSettings
from tests.mqtt.sinks import RecordingSink
from tests.registry.seed import ADMIN, TREE, create_sites
from tests.support.platform import sqlite_platform


def _datagrams(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            listener.recv(65535)
        except BlockingIOError:
            return count
        count += 1


async def test_polling_honours_the_allowlist_and_the_credentials_owning_site(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the "switch": counts what reaches it
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    fast = {"timeout": 0.2, "retries": 0}
    async with sqlite_platform(
        tmp_path, snmp=SnmpSettings(allowed_networks="10.20.0.0/16", **fast)
    ) as platform:
        async with platform.sessions() as session, session.begin():
            sites = await create_sites(session, ADMIN, TREE)
            await create_credential(
                session,
                ADMIN,
                platform.box,
                "community-d1",
                SnmpCommunityCredential(community=SecretStr("d1-secret")),
                "D1",
            )
            device = await create_device(
                session,
                ADMIN,
                platform.box,
                DeviceCreate(
                    name="sw-a",
                    kind=DeviceKind.SWITCH,
                    site_code="A",
                    address="127.0.0.1",
                    port=listener.getsockname()[1],
                    protocols=[Protocol.SNMP],
                    credential_ref="community-d1",
                ),
            )
            device_id = device.id
        caplog.set_level(logging.WARNING)
        async with SnmpClient() as client:
            fenced = snmp_poller(platform, client, RecordingSink())
            for _ in range(2):
                assert (await fenced.run_once()).devices == 0
            assert _datagrams(listener) == 0
            assert caplog.text.count(f"device {device_id} (sw-a) not polled") == 1
            assert "127.0.0.1 is outside the allowed management networks" in caplog.text

            platform.settings.snmp = SnmpSettings(allowed_networks="127.0.0.0/8", **fast)
            allowed = snmp_poller(platform, client, RecordingSink())
            assert (await allowed.run_once()).devices == 1
            assert _datagrams(listener) >= 1  # the control: inside the allowlist it is polled

            # The reform moves commune A's devices into B, under another district: D1's community
            # no longer covers them (a direct UPDATE, as the site-tree reorganisation writes it).
            async with platform.sessions() as session, session.begin():
                await session.execute(update(Device).where(Device.id == device_id).values(site_id=sites["B"]))
            caplog.clear()
            for _ in range(2):
                assert (await allowed.run_once()).devices == 0
            assert _datagrams(listener) == 0
            refused = f"device {device_id} (sw-a): credential 'community-d1' belongs to site {sites['D1']}, which no"
            assert caplog.text.count(refused) == 1

            # The monitors read the same registry: the switch is still checked, without the community,
            # and each monitors process says why once per change, not at every registry refresh.
            caplog.clear()
            settings = MonitorSettings(default=StatePolicy(interval_s=3600), check_timeout_s=1)
            monitors = RegistryMonitors(
                settings, platform.sessions, events=EventBus(), sink=None, box=platform.box
            )
            for _ in range(3):
                await monitors.refresh()
            async with platform.sessions() as session:
                (target,) = (await load_snapshot(session, platform.box)).targets
            assert target.device_id == device_id and target.credential is None
            from_monitors = [r.getMessage() for r in caplog.records if r.name == "monitors.runner"]
            assert sum(refused in message for message in from_monitors) == 1, from_monitors
    assert "d1-secret" not in caplog.text
    listener.close()
