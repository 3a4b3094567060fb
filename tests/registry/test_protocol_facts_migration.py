"""The protocol-facts migrations carry existing data, on SQLite and on a real PostgreSQL.

A registry at the previous heads (``snmp_0001``, ``mqtt_0001``, ``0001_registry`` for ONVIF) is seeded
the way the previous release stored protocol data: ``snmp_interfaces`` rows beside an SNMP record, an
ONVIF record with the top-level ``rtsp_basic_auth``, MQTT credentials and no MQTT facts. After the
upgrade everything reads back through the product's ``read_facts``; after the downgrade the rows and
attributes are exactly as seeded.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from device_registry.db import create_engine, session_factory
from device_registry.models import Device
from ioc.migrate import alembic_config
from provisioning.facts import read_facts
from provisioning.mqtt.credentials import credential_facts
from provisioning.mqtt.models import MqttCredential, MqttFacts
from provisioning.onvif.models import OnvifFacts
from provisioning.onvif.stored import StoredCamera
from provisioning.snmp.models import SnmpFacts, SnmpInterfaceFacts
from tests.support.postgres import PostgresServer

PREVIOUS_HEADS = ("snmp_0001", "mqtt_0001", "0001_registry")
OURS = ("snmp@-1", "mqtt@-1", "onvif@-1")  # proto_data_0001 .. 0003, one per area
NOW = datetime.now(UTC).replace(microsecond=0)
_names = itertools.count()

sites = sa.table(
    "sites",
    *(sa.column(n) for n in ("id", "path", "depth", "kind", "code", "code_scheme", "code_version")),
    *(sa.column(n) for n in ("name", "name_folded")),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
devices = sa.table(
    "devices",
    *(sa.column(n) for n in ("id", "name", "name_folded", "kind", "address", "site_id", "lifecycle")),
    sa.column("protocols", sa.JSON()),
    sa.column("attributes", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
IF_COLUMNS = (
    "if_index",
    "name",
    "descr",
    "alias",
    "if_type",
    "speed_bps",
    "mac",
    "admin_status",
    "oper_status",
)
snmp_interfaces = sa.table("snmp_interfaces", sa.column("device_id"), *(sa.column(n) for n in IF_COLUMNS))
mqtt_credentials = sa.table(
    "mqtt_credentials",
    sa.column("device_id"),
    sa.column("password_hash"),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)

SWITCH, CAMERA, SENSOR, REVOKED, PLAIN = 1, 2, 3, 4, 5
OLD_SNMP = {
    "sys_object_id": "1.3.6.1.4.1.9.1.2066",
    "enterprise_number": 9,
    "vendor_registry_name": "ciscoSystems",
    "family": "switch",
    "sys_location": "Tủ mạng UBND xã Vũ Quý",
    "sys_contact": None,
    "notes": ["not read: ifXTable"],
}
INTERFACES = [
    (1, "Gi0/1", "GigabitEthernet0/1", "uplink huyện", 6, 1_000_000_000, "00:0e:35:d3:3d:53", "up", "up"),
    (10101, "Te1/1", "TenGigabitEthernet1/1", None, 6, 10_000_000_000, None, "down", "down"),
]
OLD_ONVIF = {
    "manufacturer": "Hikvision",
    "model": "DS-2CD2143G2",
    "firmware": "V5.7.3",
    "serial": "DS-2CD-01",
    "hardware_id": "88",
    "clock_offset_s": 1.5,
    "services": ["device", "media", "media2"],
    "media_service": "media2",
    "is_nvr": False,
    "profiles": [
        {
            "token": "Profile_1",
            "name": "mainStream",
            "encoding": "H264",
            "resolution": "1920x1080",
            "fps": 25.0,
            "video_source_token": "VideoSource_1",
            "stream_uri": "rtsp://10.20.0.7:554/Streaming/Channels/101",
            "snapshot_uri": None,
        }
    ],
    "channels": [{"video_source_token": "VideoSource_1", "profiles": ["Profile_1"]}],
    "notes": [],
    "probe_ms": 412.3,
    "ntp_server": None,
    "device_service_url": "http://10.20.0.7:80/onvif/device_service",
    "keep_reported_addresses": False,
    "probed_at": (NOW - timedelta(days=30)).isoformat(timespec="seconds"),
}
SEEDED_ATTRIBUTES: dict[int, dict[str, Any]] = {
    SWITCH: {"snmp": OLD_SNMP, "check_interval_s": 30},
    CAMERA: {"onvif": OLD_ONVIF, "rtsp_basic_auth": True},
    SENSOR: {},
    REVOKED: {},
    PLAIN: {"check_interval_s": 60},
}
ISSUED = {SENSOR: NOW - timedelta(days=3), REVOKED: NOW - timedelta(days=9)}
REVOKED_AT = NOW - timedelta(days=1)
HASH = "$7$101$c2FsdHNhbHQ=$aGFzaGhhc2g="


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no migrations applied yet (sync: the server fixture runs its own event loop)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"facts_migration_{next(_names)}"
    asyncio.run(server.execute(f"CREATE DATABASE {name}"))
    return server.url(name)


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sites.insert().values(
                    id=1, path="/1/", depth=0, kind="province", code="TB", code_scheme="local",
                    code_version="", name="Thái Bình", name_folded="thai binh", created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            kinds = {SWITCH: "switch", CAMERA: "camera", SENSOR: "sensor", REVOKED: "sensor", PLAIN: "router"}
            protocols = {SWITCH: ["snmp"], CAMERA: ["onvif"], SENSOR: ["mqtt"], REVOKED: ["mqtt"], PLAIN: []}
            await conn.execute(
                devices.insert(),
                [
                    {
                        "id": id_, "name": f"dev-{id_}", "name_folded": f"dev-{id_}", "kind": kinds[id_],
                        "address": f"10.20.0.{id_}", "site_id": 1, "lifecycle": "active",
                        "protocols": protocols[id_], "attributes": attributes,
                        "created_at": NOW, "updated_at": NOW,
                    }
                    for id_, attributes in SEEDED_ATTRIBUTES.items()
                ],
            )  # fmt: skip
            await conn.execute(
                snmp_interfaces.insert(),
                [{"device_id": SWITCH, **dict(zip(IF_COLUMNS, row, strict=True))} for row in INTERFACES],
            )
            await conn.execute(
                mqtt_credentials.insert(),
                [
                    {"device_id": SENSOR, "password_hash": HASH, "created_at": ISSUED[SENSOR], "revoked_at": None},
                    {"device_id": REVOKED, "password_hash": HASH, "created_at": ISSUED[REVOKED],
                     "revoked_at": REVOKED_AT},
                ],
            )  # fmt: skip
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _raw(url: str) -> tuple[dict[int, Any], list[tuple[Any, ...]]]:
    """Every device's attributes and the ``snmp_interfaces`` rows, as stored."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            attributes = dict((await conn.execute(sa.select(devices.c.id, devices.c.attributes))).all())
            rows = (
                await conn.execute(
                    sa.select(*(snmp_interfaces.c[n] for n in ("device_id", *IF_COLUMNS))).order_by(
                        snmp_interfaces.c.device_id, snmp_interfaces.c.if_index
                    )
                )
            ).all()
            return attributes, [tuple(row) for row in rows]
    finally:
        await engine.dispose()


async def _read_back(url: str) -> None:
    """Through the product: the ORM ``Device`` and ``read_facts``, as onboarding's readers do."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            switch, camera, sensor, revoked, plain = [await session.get(Device, i) for i in range(1, 6)]
            assert switch and camera and sensor and revoked and plain

            snmp = read_facts(switch.attributes, SnmpFacts)
            assert snmp is not None and snmp.version == 1
            assert snmp.model_dump(exclude={"version", "interfaces"}) == OLD_SNMP
            assert snmp.interfaces == [
                SnmpInterfaceFacts(**dict(zip(IF_COLUMNS, r, strict=True))) for r in INTERFACES
            ]
            assert switch.attributes["check_interval_s"] == 30  # other keys untouched

            onvif = read_facts(camera.attributes, OnvifFacts)
            assert (
                onvif is not None
                and onvif.rtsp_basic_auth is True
                and "rtsp_basic_auth" not in camera.attributes
            )
            assert onvif.serial == "DS-2CD-01" and onvif.probed_at == NOW - timedelta(days=30)
            stored = StoredCamera.from_attributes(camera.attributes)
            assert stored.rtsp_basic_auth and stored.pinned_stream_uri("10.30.0.9", None) == (
                "rtsp://10.30.0.9:554/Streaming/Channels/101"
            )

            for device, revoked_at in ((sensor, None), (revoked, REVOKED_AT)):
                mqtt = read_facts(device.attributes, MqttFacts)
                assert mqtt is not None
                assert (mqtt.username, mqtt.topic_prefix) == (str(device.id), f"ioc/v1/d/{device.id}")
                assert (mqtt.credential_issued_at, mqtt.credential_revoked_at) == (
                    ISSUED[device.id],
                    revoked_at,
                )
                row = await session.get(MqttCredential, device.id)
                assert row is not None and row.password_hash == HASH  # the verifier stays in its table
                assert credential_facts(row) == mqtt  # what onboarding would write today
                assert HASH not in repr(device.attributes)

            assert plain.attributes == {"check_interval_s": 60}
            for device in (switch, sensor, plain):
                assert read_facts(device.attributes, OnvifFacts) is None
    finally:
        await engine.dispose()


async def test_protocol_data_moves_into_versioned_facts_and_back(empty_db_url: str) -> None:
    config = alembic_config(empty_db_url)
    for revision in PREVIOUS_HEADS:
        await asyncio.to_thread(command.upgrade, config, revision)
    await _seed(empty_db_url)
    seeded = await _raw(empty_db_url)

    await asyncio.to_thread(command.upgrade, config, "heads")
    assert "snmp_interfaces" not in await _tables(empty_db_url)
    assert "mqtt_credentials" in await _tables(empty_db_url)
    await _read_back(empty_db_url)

    for revision in OURS:
        await asyncio.to_thread(command.downgrade, config, revision)
    assert (
        await _raw(empty_db_url) == seeded
    )  # rows and attributes exactly as the previous release wrote them

    await asyncio.to_thread(command.upgrade, config, "heads")  # and up again
    await _read_back(empty_db_url)
