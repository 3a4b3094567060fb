"""The REST side: SLA for a site subtree and maintenance windows, with the registry's roles and scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox, generate_key
from device_registry.models import DeviceKind
from device_registry.schemas.devices import DeviceCreate
from device_registry.services.devices import create_device
from monitors.events import DeviceState
from monitors.outage_store import SqlOutageRecorder
from tests.registry.seed import ADMIN, build_world
from tests.support.api import Api

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
"""Midnight UTC a month ago: a whole past day whenever the suite runs."""
D1, D2 = f"{DAY:%Y-%m-%d}", f"{DAY + timedelta(days=1):%Y-%m-%d}"


async def _device(sessions: async_sessionmaker[AsyncSession], name: str, kind: DeviceKind, site: str) -> int:
    async with sessions() as session, session.begin():
        data = DeviceCreate(name=name, kind=kind, site_code=site, address="127.0.0.1")
        return (await create_device(session, ADMIN, SecretBox(generate_key()), data)).id


async def test_sla_and_windows_over_rest(api: Api, sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    switch = await _device(sessions, "sw-d1", DeviceKind.SWITCH, "D1")
    camera = await _device(sessions, "cam-a", DeviceKind.CAMERA, "A")
    recorder = SqlOutageRecorder(sessions)
    outage = await recorder.open(switch, switch, DeviceState.DOWN, DAY + timedelta(hours=6), "test")
    await recorder.close(outage, DAY + timedelta(hours=12), "back")

    window = await api.client.post(
        "/api/v1/maintenance-windows",
        json={
            "site_code": "A",
            "reason": "pole work",
            "owner": "team-a",
            "starts_at": f"{D1}T00:00:00+00:00",
            "ends_at": f"{D1}T06:00:00+00:00",
        },
        headers=api.as_("maintenance_a"),
    )
    assert window.status_code == 201, window.text
    query = {"site": "D1", "from": f"{D1}T07:00:00+07:00", "to": f"{D2}T07:00:00+07:00"}
    report = await api.client.get("/api/v1/sla", params=query, headers=api.as_("operator"))
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["from"].startswith(f"{D1}T00:00:00")
    devices = {r["name"]: r for r in body["devices"]}
    assert devices[str(switch)]["uptime_pct"] == 75.0
    assert devices[str(camera)]["monitored_s"] == 18 * 3600 and devices[str(camera)]["uptime_pct"] == 100.0
    groups = {r["name"]: r for r in body["groups"]}
    expected = 100 * (18 * 3600 + 18 * 3600) / (24 * 3600 + 18 * 3600)
    assert groups["site D1"]["uptime_pct"] == pytest.approx(expected, abs=1e-4)

    outside = await api.client.get("/api/v1/sla", params=query, headers=api.as_("engineer_a"))
    assert outside.status_code == 403
    naive = await api.client.get(
        "/api/v1/sla", params={**query, "from": f"{D1}T00:00:00"}, headers=api.as_("operator")
    )
    assert naive.status_code == 422 and naive.json()["field"] == "from"

    refused = await api.client.post(
        "/api/v1/maintenance-windows",
        json={"site_code": "A", "reason": "x", "owner": "y", "cron": "0 2 * * *", "duration_s": 60},
        headers=api.as_("operator"),
    )
    assert refused.status_code == 403
    bad_cron = await api.client.post(
        "/api/v1/maintenance-windows",
        json={"site_code": "A", "reason": "x", "owner": "y", "cron": "0 25 * * *", "duration_s": 60},
        headers=api.as_("maintenance_a"),
    )
    assert bad_cron.status_code == 422 and bad_cron.json()["field"] == "cron"
    listed = await api.client.get("/api/v1/maintenance-windows", headers=api.as_("operator"))
    assert [w["id"] for w in listed.json()] == [window.json()["id"]]
    gone = await api.client.delete(
        f"/api/v1/maintenance-windows/{window.json()['id']}", headers=api.as_("maintenance_a")
    )
    assert gone.status_code == 204
    assert (await api.client.get("/api/v1/maintenance-windows", headers=api.as_("operator"))).json() == []
