"""End to end: devices onboarded in the registry are polled and their points land in InfluxDB."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from device_registry.authz import Principal
from device_registry.models import DeviceKind, Protocol, SiteKind
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_device
from device_registry.services.sites import create_site
from ioc.runtime import Platform
from ioc.snmp_poller import snmp_poller
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpEndpoint
from provisioning.snmp.onboard import save
from provisioning.snmp.probe import probe
from provisioning.snmp.settings import SnmpSettings
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.writer import TelemetryWriter
from tests.support.platform import sqlite_platform
from tests.support.process import free_port
from tests.support.snmpd import Agent, community
from tests.support.tsdb import INFLUX_DB, InfluxServer

ADMIN = Principal.system("test-admin")


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with sqlite_platform(tmp_path, snmp=SnmpSettings(timeout=0.5, retries=0)) as opened:
        yield opened


async def test_onboarded_switch_is_polled_into_influxdb_and_a_dead_one_reports_down(
    platform: Platform, influxdb: InfluxServer, snmpsim: Agent, tmp_path: Path
) -> None:
    async with platform.sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="TB", name="Thái Bình", kind=SiteKind.PROVINCE))
        await create_site(
            session, ADMIN, SiteCreate(code="TB-VT", name="Vũ Thư", kind=SiteKind.DISTRICT, parent_code="TB")
        )
        await create_site(
            session,
            ADMIN,
            SiteCreate(code="TB-VT-TH", name="Xã Tân Hòa", kind=SiteKind.COMMUNE, parent_code="TB-VT"),
        )
        async with SnmpClient() as client:
            credential = community("linux-full-walk")
            result = await probe(client, SnmpEndpoint("127.0.0.1", credential, port=snmpsim.port, timeout=1))
        switch = await save(
            session, ADMIN, platform.box, result, credential, site_code="TB-VT", name="vt-core"
        )
        dead = await create_device(
            session,
            ADMIN,
            platform.box,
            DeviceCreate(
                name="vt-dead",
                kind=DeviceKind.SWITCH,
                site_code="TB-VT-TH",
                address="127.0.0.1",
                port=free_port(socket.SOCK_DGRAM),
                protocols=[Protocol.SNMP],
                credential=community("public"),
            ),
        )
        switch_id, dead_id = switch.id, dead.id

    config = WriterConfig(
        spool_dir=tmp_path / "spool",
        target=InfluxTarget(url=influxdb.url, api="v1", database=INFLUX_DB),
        flush_interval=0.2,
    )
    async with TelemetryWriter(config) as writer, SnmpClient() as client:
        poller = snmp_poller(platform, client, writer)
        targets = {t.device_id: t for t in await poller.targets()}
        assert targets[switch_id].site_codes == ("TB", "TB-VT")
        assert targets[dead_id].site_kinds == ("province", "district", "commune")
        assert targets[switch_id].credential is not None
        first = await poller.run_once()
        await asyncio.sleep(0.3)  # the poll interval: in_bps is a counter delta over it, a rate under test
        second = await poller.run_once()
    assert (first.ok, first.failed, second.ok, second.failed) == (1, 1, 1, 1)

    rows = influxdb.query(
        f"SELECT oper_up, in_bps FROM snmp_interface WHERE device_id = '{switch_id}' AND if_name = 'eth0'"
    )
    values = rows[0]["values"]
    assert len(values) == 2 and values[0][1] == 1
    assert values[1][2] is not None and values[1][2] >= 0  # a rate from the second poll
    health = influxdb.query(
        "SELECT up FROM device_health WHERE province = 'TB' GROUP BY district, commune, device_id, device, kind"
    )
    up_by_place = {
        tuple(s["tags"][k] for k in ("district", "commune", "device_id", "device", "kind")): [
            v[1] for v in s["values"]
        ]
        for s in health
    }
    assert up_by_place == {
        ("TB-VT", "", str(switch_id), "vt-core", "other"): [1, 1],  # on the district itself: no commune
        ("TB-VT", "TB-VT-TH", str(dead_id), "vt-dead", "switch"): [0, 0],
    }
    interfaces = influxdb.query(
        "SELECT count(oper_up) FROM snmp_interface WHERE district = 'TB-VT' GROUP BY site, device_id"
    )
    assert [(s["tags"]["site"], s["tags"]["device_id"]) for s in interfaces] == [("TB-VT", str(switch_id))]
    polls = influxdb.query(
        "SELECT count(up) FROM collector_poll WHERE commune = 'TB-VT-TH' GROUP BY collector, device_id"
    )
    assert [(s["tags"]["collector"], s["tags"]["device_id"]) for s in polls] == [("snmp", str(dead_id))]
    assert influxdb.count("collector_cycle", "devices") == 2
