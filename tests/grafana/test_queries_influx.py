"""Every panel query and every template-variable query of the IOC dashboards, run against a real
InfluxDB 1.x filled by the platform's real writers on a small simulated fleet:

- the SNMP poller polling snmpsim (a district core switch with real interface tables),
- the camera poller probing the ONVIF camera simulator and describing a GStreamer RTSP stream,
- the MQTT ingest reading a sensor's SenML values, its status and one malformed message from Mosquitto,
- the monitors (checks, state machine, device_status, site and scheduler points),
- the telemetry writer itself (``ioc_telemetry``).

Template variables are replaced by the fleet's real codes and names, ``$timeFilter`` by the last hour;
each query must return at least one series whose tags are the expected ones and a non-null value.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import select

from device_registry.authz import Principal
from device_registry.models import Device, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from grafana.dashboards import all_dashboards
from grafana.provisioning import dashboard_json
from ioc.camera_poller import camera_poller
from ioc.runtime import Platform
from ioc.snmp_poller import snmp_poller
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import EventBus
from monitors.runner import RegistryMonitors
from provisioning.mqtt.onboard import onboard_sensor
from provisioning.mqtt.topics import TopicKind, device_topic
from provisioning.onvif.settings import OnvifSettings
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpEndpoint
from provisioning.snmp.onboard import save
from provisioning.snmp.probe import probe
from provisioning.snmp.settings import SnmpSettings
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.ingest.deadletters import DeadLetterStore
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.lastseen import LastSeenLookup, LastSeenStore
from telemetry.ingest.service import IngestConfig, IngestService
from telemetry.writer import TelemetryWriter
from tests.support.mosquitto import Broker
from tests.support.onvif import RTSP_PASSWORD, RTSP_USER, Fleet, RtspServer, onboard_camera
from tests.support.platform import sqlite_platform
from tests.support.snmpd import Agent, community
from tests.support.tsdb import INFLUX_DB, InfluxServer
from tests.support.waits import next_second, wait_until

ADMIN = Principal.system("test-grafana")
PROVINCE, DISTRICT, COMMUNE = "TB", "TB-VT", "TB-VT-TH"
SWITCH, CAMERA, SENSOR = "vt-core", "cam-tan-hoa", "water-tan-hoa"
CLIENT_ID = "grafana-e2e"
PLACE_VALUES = {"province": PROVINCE, "district": DISTRICT, "commune": COMMUNE}
DEVICE_OF_MEASUREMENT = {
    "snmp_interface": SWITCH,
    "camera_health": CAMERA,
    "sensor": SENSOR,
    "sensor_status": SENSOR,
    "check_result": CAMERA,
}
"""Device detail is one dashboard for every kind: each panel is checked with a device of its kind."""


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with sqlite_platform(
        tmp_path,
        snmp=SnmpSettings(timeout=0.5, retries=0),
        onvif=OnvifSettings(call_timeout_s=2, rtsp_timeout_s=10),
    ) as opened:
        yield opened


async def build_fleet(platform: Platform, agent: Agent, camera: Any) -> tuple[str, int]:
    """Province > district > commune (with coordinates); the switch on the district, a camera and a
    sensor in the commune. Returns the sensor's MQTT password and device id."""
    async with platform.sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code=PROVINCE, name="Thái Bình", kind=SiteKind.PROVINCE))
        await create_site(
            session,
            ADMIN,
            SiteCreate(code=DISTRICT, name="Vũ Thư", kind=SiteKind.DISTRICT, parent_code=PROVINCE),
        )
        await create_site(
            session,
            ADMIN,
            SiteCreate(
                code=COMMUNE,
                name="Xã Tân Hòa",
                kind=SiteKind.COMMUNE,
                parent_code=DISTRICT,
                latitude=20.43,
                longitude=106.29,
            ),
        )
        async with SnmpClient() as client:
            credential = community("linux-full-walk")
            result = await probe(client, SnmpEndpoint("127.0.0.1", credential, port=agent.port, timeout=1))
        await save(session, ADMIN, platform.box, result, credential, site_code=DISTRICT, name=SWITCH)
        await onboard_camera(session, platform.box, camera, COMMUNE, CAMERA)
        sensor = await onboard_sensor(session, ADMIN, platform.box, SENSOR, COMMUNE)
    return sensor.password.get_secret_value(), sensor.device_id


async def run_ingest(
    platform: Platform, mosquitto: Broker, writer: TelemetryWriter, device_id: int, password: str
) -> None:
    service = IngestService(
        IngestConfig(url=mosquitto.ingest_url, client_id=CLIENT_ID, last_seen_flush_s=0.2, self_metrics=True),
        sink=writer,
        dead_letters=DeadLetterStore(platform.sessions),
        last_seen=LastSeenStore(platform.sessions),
        directory=CredentialDirectory(platform.sessions, miss_refresh_s=0.0),
    )
    task = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(20):
            await service.subscribed.wait()
        now = time.time()
        pack = [
            {"bn": f"urn:dev:ioc:{device_id}:", "bt": now, "n": "level", "u": "m", "v": 1.25},
            {"n": "temp", "u": "Cel", "v": 29.5},
        ]
        clash = [  # one name in two units: two narrow points (name/unit tags, field v)
            {"bn": f"urn:dev:ioc:{device_id}:", "bt": now + 1, "n": "level", "u": "m", "v": 1.5},
            {"n": "level", "u": "cm", "v": 150},
        ]
        async with aiomqtt.Client(
            "127.0.0.1", mosquitto.port, username=str(device_id), password=password
        ) as client:
            await client.publish(device_topic(device_id, TopicKind.SENML), json.dumps(pack), qos=1)
            await client.publish(device_topic(device_id, TopicKind.SENML), json.dumps(clash), qos=1)
            await client.publish(device_topic(device_id, TopicKind.STATUS), b"online", qos=1, retain=True)
            await client.publish(device_topic(device_id, TopicKind.SENML), b"{not json", qos=1)
        # the SenML pack is one wide point (docs/mqtt.md), the clash two narrow ones, the status one
        await wait_until(
            lambda: service.stats.points >= 4 and service.stats.dead_letters >= 1,
            20,
            "4 points and 1 dead letter from the ingest",
            detail=lambda: service.stats,
        )
        await service.write_self_metrics()
        await next_second()  # rates need self-metric points in two different seconds
        await service.write_self_metrics()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run_monitors(platform: Platform, writer: TelemetryWriter) -> None:
    settings = MonitorSettings(default=StatePolicy(interval_s=3600), check_timeout_s=2)
    monitors = RegistryMonitors(
        settings,
        platform.sessions,
        events=EventBus(),
        sink=writer,
        box=platform.box,
        last_seen=LastSeenLookup(platform.sessions),
    )
    async with platform.sessions() as session:
        device_ids = list(await session.scalars(select(Device.id)))
    try:
        await monitors.refresh()
        scheduler = monitors.service.scheduler
        scheduler.self_metrics_interval_s = 0.0  # a point per tick: the test cannot wait 10 s
        for evaluation in range(2):
            if evaluation:
                await next_second()  # rates need points in two different seconds
            scheduler.recheck(device_ids)
            await scheduler.tick()
            await scheduler.wait_idle()
    finally:
        await monitors.service.stop()
        await monitors.checks.close()


def queries_of(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, query) of every panel target and template variable of a dashboard's JSON."""
    found = [
        (f"{board['uid']} variable {v['name']}", v["query"]) for v in board["templating"].get("list", [])
    ]
    for panel in board["panels"]:
        found += [(f"{board['uid']} panel {panel['title']!r}", t["query"]) for t in panel.get("targets", [])]
    return found


def device_for(query: str) -> str:
    measurement = re.search(r'FROM "(\w+)"', query)
    return DEVICE_OF_MEASUREMENT.get(measurement.group(1) if measurement else "", CAMERA)


def substituted(query: str) -> str:
    values = {**PLACE_VALUES, "device": device_for(query), "__interval": "1s"}
    query = query.replace("$timeFilter", "time > now() - 1h")
    return re.sub(r"\$(\w+)", lambda m: values[m.group(1)], query)


def expected_tags(query: str) -> dict[str, set[str]]:
    """What each tag may be in the answer (a GROUP BY tag the filters do not pin must be non-empty)."""
    uplinks = "\"commune\" = ''" in query
    return {
        "province": {PROVINCE},
        "district": {DISTRICT},
        "commune": {""} if uplinks else {COMMUNE},
        "device": {SWITCH, CAMERA, SENSOR} if "$device" not in query else {device_for(query)},
        "kind": {"other", "camera", "sensor"},
        "collector": {"snmp", "camera_health"},
        "client_id": {CLIENT_ID},
        "host": {socket.gethostname()},
        # a wide sensor point (fields level, temp; tags unit_level, unit_temp) has no name/unit tags,
        # a narrow one (the clashing pack) no unit_* tags: each groups the other's under ""
        "name": {"", "level"},
        "unit": {"", "m", "cm"},
        "unit_level": {"", "m"},
        "unit_temp": {"", "Cel"},
    }


def check_answer(where: str, query: str, series: list[dict[str, Any]]) -> None:
    assert series, f"{where}: no series for {query}"
    allowed = expected_tags(query)
    for one in series:
        for key, value in (one.get("tags") or {}).items():
            assert value in allowed.get(key, {value} - {""}), f"{where}: tag {key}={value!r} in {query}"
    if query.startswith("SHOW TAG VALUES"):
        key = re.search(r'WITH KEY = "(\w+)"', query)
        assert key is not None
        wanted = allowed[key.group(1)] if key.group(1) != "device" else {SWITCH, CAMERA, SENSOR}
        assert wanted <= {row[1] for row in series[0]["values"]}, f"{where}: {series[0]['values']}"
        return
    values = [v for one in series for row in one["values"] for v in row[1:]]
    assert any(v is not None for v in values), f"{where}: only nulls for {query}"


async def test_every_dashboard_query_answers_from_a_fleet_written_by_the_real_collectors(
    platform: Platform,
    influxdb: InfluxServer,
    snmpsim: Agent,
    broker: Broker,
    fleet: Fleet,
    rtsp_server: RtspServer,
    tmp_path: Path,
) -> None:
    camera = await fleet(
        username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"{rtsp_server.url}?t={{token}}"
    )
    password, sensor_id = await build_fleet(platform, snmpsim, camera)
    await broker.sync(platform.sessions)
    config = WriterConfig(
        spool_dir=tmp_path / "spool",
        target=InfluxTarget(url=influxdb.url, api="v1", database=INFLUX_DB),
        flush_interval=0.1,
        self_metrics_interval=0.2,
    )
    async with TelemetryWriter(config) as writer, SnmpClient() as client:
        snmp = snmp_poller(platform, client, writer)
        first = await snmp.run_once()
        await next_second()  # counters need two samples in different seconds for a rate
        second = await snmp.run_once()
        assert (first.ok, second.ok) == (1, 1)
        cameras = await camera_poller(platform, writer).run_once()
        assert (cameras.ok, cameras.failed) == (1, 0)
        await run_ingest(platform, broker, writer, sensor_id, password)
        await run_monitors(platform, writer)
        last_writes_ns = time.time_ns()

        async def self_metrics_after_last_writes() -> bool:
            query = f"SELECT count(points_written) FROM ioc_telemetry WHERE time > {last_writes_ns}"
            return bool(await asyncio.to_thread(influxdb.query, query))

        await wait_until(
            self_metrics_after_last_writes, 10, "a writer self-metrics point after the last writes", every=0.1
        )
    checked = 0
    for board in map(dashboard_json, all_dashboards()):
        for where, query in queries_of(board):
            for real in expanded(board, query, influxdb):
                series = await asyncio.to_thread(influxdb.query, real)
                check_answer(where, real, series)
                checked += 1
    assert checked >= 35
    await check_wide_sensor_panel(influxdb)


def expanded(board: dict[str, Any], query: str, influxdb: InfluxServer) -> list[str]:
    """The query as Grafana runs it: once per value of a repeat variable it names (the Device detail
    dashboard repeats its wide sensor panel per ``sensor_field``), else once."""
    if "$sensor_field" not in query:
        return [substituted(query)]
    fields = sensor_fields(board, influxdb)
    return [substituted(query.replace("$sensor_field", field)) for field in fields]


def sensor_fields(board: dict[str, Any], influxdb: InfluxServer) -> list[str]:
    """What Grafana offers for ``sensor_field``: the variable's query answered, filtered by its regex."""
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "sensor_field"]
    (series,) = influxdb.query(variable["query"])
    pattern = re.compile(variable["regex"].strip("/"))
    return [row[0] for row in series["values"] if pattern.search(row[0])]


async def check_wide_sensor_panel(influxdb: InfluxServer) -> None:
    """Each wide field gets its own curve named with its own unit: the repeat's values are exactly the
    fields the ingest wrote, and each panel's series carries that field's unit tag (the alias
    ``$sensor_field ($tag_unit_<field>)``)."""
    (board,) = [dashboard_json(b) for b in all_dashboards() if b.uid == "ioc-device"]
    assert sensor_fields(board, influxdb) == ["level", "temp"]
    (panel,) = [p for p in board["panels"] if p.get("repeat") == "sensor_field"]
    (target,) = panel["targets"]
    assert target["alias"] == "$sensor_field ($tag_unit_${sensor_field})"
    for field, unit, value in (("level", "m", 1.25), ("temp", "Cel", 29.5)):
        real = substituted(target["query"].replace("$sensor_field", field))
        series = await asyncio.to_thread(influxdb.query, real)
        assert [one["tags"] for one in series] == [{f"unit_{field}": unit}], real
        assert [v for one in series for row in one["values"] for v in row[1:] if v is not None] == [value]
