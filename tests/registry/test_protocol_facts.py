"""Protocol facts: SNMP, ONVIF and MQTT onboarding store one versioned record each, read back through the
one helper (``provisioning.facts``); a broken record is a clear error, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.models import Device, DeviceKind, SiteKind
from device_registry.queries.targets import watched_devices
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_devices
from device_registry.services.sites import create_site
from monitors.registry_source import load_snapshot
from provisioning.facts import Facts, MalformedFacts, read_facts, write_facts
from provisioning.mqtt.models import MqttCredential, MqttFacts
from provisioning.mqtt.onboard import onboard_sensor, revoke_sensor, rotate_sensor_password
from provisioning.onvif.models import OnvifFacts
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpEndpoint, SnmpFacts
from provisioning.snmp.onboard import onboard
from tests.support.onvif import Fleet, onboard_camera
from tests.support.snmpd import Agent, community

ADMIN = Principal.system("facts-test")
FACTS: tuple[type[Facts], ...] = (SnmpFacts, OnvifFacts, MqttFacts)


async def test_all_three_onboardings_store_facts_the_same_way(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, snmpsim: Agent, fleet: Fleet
) -> None:
    cam = await fleet(manufacturer="Dahua", model="IPC-HDW1230", serial="DH-9")
    async with sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="VT", name="Xã Vũ Tiến", kind=SiteKind.COMMUNE))
        async with SnmpClient() as client:
            endpoint = SnmpEndpoint("127.0.0.1", community("linux-full-walk"), port=snmpsim.port, timeout=2)
            switch, _ = await onboard(session, ADMIN, box, client, endpoint, site_code="VT", name="sw-vt")
        camera_id = await onboard_camera(session, box, cam, "VT", "cam-vt")
        sensor = await onboard_sensor(session, ADMIN, box, "aq-vt", "VT")
        ids: dict[type[Facts], int] = {
            SnmpFacts: switch.id,
            OnvifFacts: camera_id,
            MqttFacts: sensor.device_id,
        }

    async with sessions() as session:
        stored = {kind: await session.get(Device, device_id) for kind, device_id in ids.items()}
        facts: dict[type[Facts], Any] = {}
        for kind, device in stored.items():
            assert device is not None
            facts[kind] = read_facts(device.attributes, kind)
            assert isinstance(facts[kind], kind) and facts[kind].version == 1
            assert set(device.attributes) == {kind.protocol}  # one record, under its protocol's key
            for other in FACTS:
                if other is not kind:
                    assert read_facts(device.attributes, other) is None
            text = json.dumps(device.attributes)  # attributes are returned by the device API: no secrets
            for secret in ("linux-full-walk", cam.config.password, sensor.password.get_secret_value()):
                assert secret not in text
        hash_ = (await session.get(MqttCredential, sensor.device_id)).password_hash  # type: ignore[union-attr]
        assert hash_ not in json.dumps(stored[MqttFacts].attributes)  # type: ignore[union-attr]

    snmp, onvif, mqtt = facts[SnmpFacts], facts[OnvifFacts], facts[MqttFacts]
    assert snmp.enterprise_number == 8072 and [i.name for i in snmp.interfaces] == ["lo", "eth0"]
    assert (onvif.manufacturer, onvif.serial) == ("Dahua", "DH-9") and onvif.profiles[0].stream_uri
    assert onvif.device_service_url == f"http://127.0.0.1:{cam.port}/onvif/device_service"
    assert (mqtt.username, mqtt.topic_prefix) == (str(sensor.device_id), f"ioc/v1/d/{sensor.device_id}")
    assert mqtt.credential_revoked_at is None

    async with sessions() as session, session.begin():
        assert await revoke_sensor(session, ADMIN, sensor.device_id)
    async with sessions() as session:
        device = await session.get(Device, sensor.device_id)
        assert device is not None
        revoked = read_facts(device.attributes, MqttFacts)
        row = await session.get(MqttCredential, sensor.device_id)
        assert revoked is not None and row is not None and row.revoked_at is not None
        assert revoked.credential_revoked_at == row.revoked_at
        assert revoked.credential_issued_at == mqtt.credential_issued_at
    async with sessions() as session, session.begin():
        await rotate_sensor_password(session, ADMIN, sensor.device_id)
    async with sessions() as session:
        device = await session.get(Device, sensor.device_id)
        assert device is not None
        rotated = read_facts(device.attributes, MqttFacts)
        assert rotated is not None and rotated.credential_revoked_at is None
        assert rotated.credential_issued_at > mqtt.credential_issued_at


GOOD_ONVIF = {"version": 1, "profiles": [{"token": "p1", "stream_uri": "rtsp://10.0.0.5/live"}]}


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ("rtsp://10.0.0.5/live", "attributes['onvif']: expected an object, got str"),
        ({**GOOD_ONVIF, "version": 2}, "attributes['onvif']: version 2, this release reads version 1"),
        ({"profiles": []}, "version None, this release reads version 1 (stored before facts were versioned"),
        (
            {**GOOD_ONVIF, "profiles": [{"stream_uri": "x"}]},
            "attributes['onvif']: profiles.0.token: Field required",
        ),
        ({**GOOD_ONVIF, "profiles": "all of them"}, "profiles: Input should be a valid list"),
    ],
)
def test_a_malformed_record_is_a_clear_typed_error(record: object, says: str) -> None:
    with pytest.raises(MalformedFacts) as error:
        read_facts({"onvif": record}, OnvifFacts)
    assert says in str(error.value) and error.value.protocol == "onvif"


def test_no_record_is_none_and_writing_keeps_the_other_keys() -> None:
    assert read_facts(None, OnvifFacts) is None and read_facts({"check_interval_s": 30}, OnvifFacts) is None

    class Holder:
        def __init__(self) -> None:
            self.attributes: dict[str, Any] = {"check_interval_s": 30, "onvif": GOOD_ONVIF}

    holder = Holder()
    write_facts(
        holder, MqttFacts(username="7", topic_prefix="ioc/v1/d/7", credential_issued_at=datetime.now(UTC))
    )
    assert holder.attributes["check_interval_s"] == 30 and holder.attributes["onvif"] == GOOD_ONVIF
    assert holder.attributes["mqtt"]["version"] == 1
    assert read_facts(holder.attributes, MqttFacts) == MqttFacts.model_validate(holder.attributes["mqtt"])
    with pytest.raises(MalformedFacts, match=r"interfaces: List should have at most 2048 items"):
        read_facts({"snmp": {"version": 1, "interfaces": [{"if_index": i} for i in range(2049)]}}, SnmpFacts)


async def test_pollers_load_devices_without_the_snmp_inventory_whatever_is_stored(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox
) -> None:
    interfaces = [{"if_index": i, "name": f"Gi0/{i}"} for i in range(1, 49)]
    stored: dict[str, dict[str, Any]] = {
        "sw": {"snmp": {"version": 1, "family": "switch", "interfaces": interfaces}, "check_interval_s": 30},
        "odd": {"snmp": [1, 2]},  # malformed records must not break the query (PostgreSQL's #- would)
        "cam": {"snmp": "x", "onvif": GOOD_ONVIF},
    }
    async with sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="VT", name="Xã Vũ Tiến", kind=SiteKind.COMMUNE))
        created = await create_devices(
            session,
            ADMIN,
            box,
            [
                DeviceCreate(name=n, kind=DeviceKind.SWITCH, site_code="VT", address="127.0.0.1")
                for n in stored
            ],
        )
        for device in created:
            device.attributes = stored[device.name]
    async with sessions() as session:
        loaded = {d.name: d.attributes for d in await watched_devices(session)}
        targets = {t.name: t.attributes for t in (await load_snapshot(session)).targets}
    lean = {**stored, "sw": {"snmp": {"version": 1, "family": "switch"}, "check_interval_s": 30}}
    assert loaded == lean and targets == lean
    assert read_facts(targets["cam"], OnvifFacts) == OnvifFacts.model_validate(GOOD_ONVIF)
    async with sessions() as session:  # nothing written back: the registry keeps the inventory
        reread = await session.get(Device, created[0].id)
        facts = read_facts(reread.attributes if reread else None, SnmpFacts)
        assert facts is not None and len(facts.interfaces) == 48
