"""A page of 48-port switches stays small: the device listing leaves SNMP's interface inventory out,
and one device's read and ``/api/v1/snmp/devices/{id}/interfaces`` (scoped) carry it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from device_registry.models import Device, DeviceKind
from device_registry.queries.devices import device_views
from device_registry.schemas.common import Page
from device_registry.schemas.devices import DeviceCreate, DevicePublic
from device_registry.services.devices import create_devices
from provisioning.facts import write_facts
from provisioning.snmp.models import SnmpFacts, SnmpInterfaceFacts
from tests.registry.seed import ADMIN, build_world
from tests.support.api import Api

SWITCHES = 50
PORTS = 48
LISTING_BOUND = 60_000
"""Bytes of a 50-switch listing page; with the inventory it weighs ~10x that."""


def switch_facts(n: int) -> SnmpFacts:
    """What onboarding stores for a 48-port access switch (names and descriptions as Cisco's agent
    gives them)."""
    return SnmpFacts(
        sys_object_id="1.3.6.1.4.1.9.1.2134",
        enterprise_number=9,
        vendor_registry_name="ciscoSystems",
        family="switch",
        sys_location=f"Tủ mạng xã Hồng Lý, tầng {n % 3 + 1}",
        sys_contact="noc@thaibinh.gov.vn",
        notes=["not read: entPhysicalTable"],
        interfaces=[
            SnmpInterfaceFacts(
                if_index=10100 + port,
                name=f"Gi1/0/{port}",
                descr=f"GigabitEthernet1/0/{port}",
                alias=f"uplink to commune cabinet {n}-{port}" if port > PORTS - 2 else f"access port {port}",
                if_type=6,
                speed_bps=1_000_000_000,
                mac=f"00:1b:54:{n:02x}:{port // 256:02x}:{port % 256:02x}",
                admin_status="up",
                oper_status="up" if port % 4 else "down",
            )
            for port in range(1, PORTS + 1)
        ],
    )


@pytest.fixture
async def ids(api: Api, sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> dict[str, int]:
    """The seed world's users, then 50 switches at commune A, one at commune B, and a camera at A with
    no SNMP facts: device name -> id."""
    api.tokens.update((await build_world(sessions)).tokens)
    async with sessions() as session, session.begin():
        rows = [
            DeviceCreate(name=f"sw-a-{n:02d}", kind=DeviceKind.SWITCH, site_code="A", protocols=["snmp"])
            for n in range(SWITCHES)
        ]
        rows += [
            DeviceCreate(name="sw-b", kind=DeviceKind.SWITCH, site_code="B", protocols=["snmp"]),
            DeviceCreate(name="cam-a", kind=DeviceKind.CAMERA, site_code="A"),
        ]
        created = await create_devices(session, ADMIN, box, rows)
        for n, device in enumerate(created):
            if device.kind == DeviceKind.SWITCH:
                write_facts(device, switch_facts(n))
        created[-1].attributes = {"check_interval_s": 30}  # the camera: attributes, but no SNMP facts
        return {d.name: d.id for d in created}


async def _whole_page_bytes(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The same page as the listing, every attribute included: what the listing answered before."""
    async with sessions() as session:
        devices = (
            await session.scalars(select(Device).where(Device.name.like("sw-a-%")).order_by(Device.id))
        ).all()
        page: Page[DevicePublic] = Page(
            items=await device_views(session, devices), total=len(devices), limit=50, offset=0
        )
        return len(page.model_dump_json())


def _lean(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if key != "interfaces"}


async def test_listing_leaves_the_interfaces_out_and_one_device_keeps_them(
    api: Api, sessions: async_sessionmaker[AsyncSession], ids: dict[str, int]
) -> None:

    listed = await api.client.get(
        "/api/v1/devices", params={"site": "A", "kind": "switch", "limit": 50}, headers=api.as_("admin")
    )
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == SWITCHES
    for n, item in enumerate(items):
        stored = switch_facts(n).model_dump(mode="json")
        assert item["attributes"]["snmp"] == _lean(stored)  # the other facts, all of them
    assert '"interfaces"' not in listed.text
    before = await _whole_page_bytes(sessions)
    print(
        f"listing page of {SWITCHES} {PORTS}-port switches: {len(listed.content)} bytes; with the inventory {before}"
    )
    assert len(listed.content) < LISTING_BOUND and before > 8 * len(listed.content)

    first = ids["sw-a-00"]
    one = await api.client.get(f"/api/v1/devices/{first}", headers=api.as_("engineer_a"))
    assert one.status_code == 200
    assert one.json()["attributes"]["snmp"] == switch_facts(0).model_dump(mode="json")
    inventory = await api.client.get(
        f"/api/v1/snmp/devices/{first}/interfaces", headers=api.as_("engineer_a")
    )
    assert inventory.status_code == 200
    assert inventory.json() == {
        "device_id": first,
        "interfaces": switch_facts(0).model_dump(mode="json")["interfaces"],
    }
    # The scoped engineer of commune A's own listing is lean as well.
    scoped = await api.client.get("/api/v1/devices", params={"limit": 100}, headers=api.as_("engineer_a"))
    assert scoped.json()["total"] == SWITCHES + 1 and '"interfaces"' not in scoped.text


async def test_the_interfaces_route_is_scoped_and_answers_404_like_every_device_route(
    api: Api, sessions: async_sessionmaker[AsyncSession], ids: dict[str, int]
) -> None:
    foreign, camera = ids["sw-b"], ids["cam-a"]

    as_a = api.as_("engineer_a")
    for path in (f"/api/v1/snmp/devices/{foreign}/interfaces", f"/api/v1/devices/{foreign}"):
        refused = await api.client.get(path, headers=as_a)
        assert (refused.status_code, refused.json()["detail"]) == (404, f"no device with id {foreign}"), path
    admin_view = await api.client.get(f"/api/v1/snmp/devices/{foreign}/interfaces", headers=api.as_("admin"))
    assert admin_view.status_code == 200 and len(admin_view.json()["interfaces"]) == PORTS

    no_facts = await api.client.get(f"/api/v1/snmp/devices/{camera}/interfaces", headers=as_a)
    assert no_facts.status_code == 404 and no_facts.json()["field"] == "device_id"
    assert "no SNMP facts" in no_facts.json()["detail"]
    missing = await api.client.get("/api/v1/snmp/devices/999999/interfaces", headers=as_a)
    assert (missing.status_code, missing.json()["detail"]) == (404, "no device with id 999999")
    anonymous = await api.client.get(f"/api/v1/snmp/devices/{camera}/interfaces")
    assert anonymous.status_code == 401

    async with sessions() as session, session.begin():  # written by another release: says so, no 500
        device = await session.get(Device, ids["sw-a-01"])
        assert device is not None
        device.attributes = {"snmp": {"version": 7, "interfaces": []}}
    stale = await api.client.get(f"/api/v1/snmp/devices/{ids['sw-a-01']}/interfaces", headers=as_a)
    assert stale.status_code == 409 and "this release reads version 1" in stale.json()["detail"]
