"""The device API as a network engineer uses it: register, find, move, and be told clearly what is wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from device_registry.models import AuditEntry, Credential
from tests.registry.seed import build_world


@pytest.fixture
async def world(api, sessions):
    w = await build_world(sessions)
    api.tokens.update(w.tokens)
    return w


async def add(api, who="admin", **body):
    body.setdefault("kind", "camera")
    body.setdefault("site_code", "A")
    return await api.client.post("/api/v1/devices", json=body, headers=api.as_(who))


async def test_health_is_public_and_everything_else_needs_a_token(api, world):
    # Without `ioc serve` (no supervised services) the list is empty.
    assert (await api.client.get("/api/v1/health")).json() == {
        "status": "ok",
        "database": "ok",
        "services": [],
    }
    for path in ("/api/v1/devices", "/api/v1/sites", "/api/v1/users", "/api/v1/audit", "/metrics"):
        response = await api.client.get(path)
        assert response.status_code == 401, path
    bad = await api.client.get("/api/v1/devices", headers={"Authorization": "Bearer ioc_nope"})
    assert bad.status_code == 401
    # The fleet's up/down is in /metrics: admins (or IOC_METRICS_TOKEN) only.
    assert (await api.client.get("/metrics", headers=api.as_("operator"))).status_code == 403
    metrics = await api.client.get("/metrics", headers=api.as_("admin"))
    assert metrics.status_code == 200 and ("process_" in metrics.text or "python_" in metrics.text)


async def test_register_camera_with_credential_that_is_never_returned(api, world, sessions, box):
    created = await add(
        api,
        name="cam-hong-ly-1",
        address="10.34.1.10",
        protocols=["onvif"],
        tags=["traffic"],
        credential={"protocol": "onvif", "username": "admin", "password": "S3cret-pass"},
    )
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["has_credential"] is True
    assert "S3cret-pass" not in created.text
    fetched = await api.client.get(f"/api/v1/devices/{device['id']}", headers=api.as_("admin"))
    assert "S3cret-pass" not in fetched.text and fetched.json()["site"]["code"] == "A"
    async with sessions() as session:
        row = await session.scalar(select(Credential))
        assert b"S3cret-pass" not in row.secret
        assert box.open(row.secret).password.get_secret_value() == "S3cret-pass"
        audit_rows = (
            await session.scalars(select(AuditEntry).where(AuditEntry.object_type == "device"))
        ).all()
    assert audit_rows and all("S3cret-pass" not in str(a.after) for a in audit_rows)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "toaster"}, "kind"),
        ({"name": "x", "address": "10.0.0.300"}, "address"),
        ({"name": "x", "port": 70000}, "port"),
        ({"name": "", "kind": "camera"}, "name"),
        ({"name": "x", "tags": ["bad tag"]}, "tags"),
        ({"name": "x", "credential": {"protocol": "snmp"}}, "community"),
    ],
)
async def test_bad_input_names_the_field(api, world, body, field):
    response = await add(api, **body)
    assert response.status_code == 422
    assert field in response.text


async def test_unknown_site_and_duplicate_name(api, world):
    missing = await add(api, name="cam", site_code="NOPE")
    assert missing.status_code == 404 and missing.json()["field"] == "site"
    assert (await add(api, name="cam")).status_code == 201
    duplicate = await add(api, name="cam")
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"


async def test_redundant_uplinks_allowed_cycles_rejected(api, world):
    core = (await add(api, name="core", kind="router", site_code="P")).json()
    dist1 = (await add(api, name="dist-1", kind="switch", site_code="D1", uplink_ids=[core["id"]])).json()
    dist2 = (await add(api, name="dist-2", kind="switch", site_code="D1", uplink_ids=[core["id"]])).json()
    cam = await add(api, name="cam", uplink_ids=[dist1["id"], dist2["id"]])
    assert cam.status_code == 201 and cam.json()["uplink_ids"] == sorted([dist1["id"], dist2["id"]])
    cycle = await api.client.patch(
        f"/api/v1/devices/{core['id']}", json={"uplink_ids": [cam.json()["id"]]}, headers=api.as_("admin")
    )
    assert (
        cycle.status_code == 422
        and "cycle" in cycle.json()["detail"]
        and cycle.json()["field"] == "uplink_ids"
    )
    in_use = await api.client.delete(f"/api/v1/devices/{dist1['id']}", headers=api.as_("admin"))
    assert in_use.status_code == 409


async def test_filters_search_and_pagination(api, world):
    await add(api, name="Camera Vũ Thư 1", kind="camera", vendor="Hikvision", tags=["traffic"])
    await add(api, name="Switch Đông Hưng", kind="switch", site_code="B", vendor="Cisco")
    await add(api, name="Camera chợ", kind="camera", site_code="A2", vendor="Dahua", tags=["market"])
    h = api.as_("admin")

    async def names(**params):
        response = await api.client.get("/api/v1/devices", params=params, headers=h)
        assert response.status_code == 200
        return sorted(d["name"] for d in response.json()["items"])

    assert await names(search="vu thu") == ["Camera Vũ Thư 1"]
    assert await names(search="dong hung") == ["Switch Đông Hưng"]
    assert await names(site="D1") == ["Camera Vũ Thư 1", "Camera chợ"]
    assert await names(kind="switch") == ["Switch Đông Hưng"]
    assert await names(tag="market") == ["Camera chợ"]
    assert await names(vendor="cisco") == ["Switch Đông Hưng"]
    page = (await api.client.get("/api/v1/devices", params={"limit": 2, "offset": 2}, headers=h)).json()
    assert page["total"] == 3 and len(page["items"]) == 1


async def test_move_keeps_history_and_audit_has_before_after(api, world):
    device = (await add(api, name="ups-1", kind="ups")).json()
    moved = await api.client.patch(
        f"/api/v1/devices/{device['id']}", json={"site_code": "B"}, headers=api.as_("admin")
    )
    assert moved.status_code == 200 and moved.json()["site"]["code"] == "B"
    history = (
        await api.client.get(f"/api/v1/devices/{device['id']}/history", headers=api.as_("admin"))
    ).json()
    assert [h["site"]["code"] for h in history] == ["A", "B"]
    assert history[0]["valid_to"] is not None and history[1]["valid_to"] is None
    audit = (
        await api.client.get(
            "/api/v1/audit",
            params={"object_type": "device", "object_id": device["id"]},
            headers=api.as_("admin"),
        )
    ).json()
    update = next(e for e in audit["items"] if e["action"] == "update")
    assert (
        update["before"]["site_id"] == world.site_ids["A"]
        and update["after"]["site_id"] == world.site_ids["B"]
    )
    assert update["actor"] == "admin"


async def test_closed_site_refuses_new_devices(api, world):
    closed = await api.client.post(
        f"/api/v1/sites/{world.site_ids['A2']}/close",
        json={"valid_to": "2025-07-01"},
        headers=api.as_("admin"),
    )
    assert closed.status_code == 200 and closed.json()["valid_to"] == "2025-07-01"
    refused = await add(api, name="late", site_code="A2")
    assert refused.status_code == 422 and "closed" in refused.json()["detail"]


async def test_import_endpoint_reports_lines_and_export_round_trips(api, world):
    h = {**api.as_("admin"), "Content-Type": "text/csv"}
    bad = "name,kind,site,address\nsw-1,switch,A,10.0.0.1\ncam-1,camera,A,10.0.0.999\ncam-2,toaster,B,\n"
    rejected = await api.client.post("/api/v1/devices/import", content=bad.encode(), headers=h)
    assert rejected.status_code == 422
    assert [(e["line"], e["field"]) for e in rejected.json()["errors"]] == [(3, "address"), (4, "kind")]
    assert (await api.client.get("/api/v1/devices", headers=h)).json()["total"] == 0

    good = "name,kind,site,uplinks,tags\nsw-1,switch,A,,core\ncam-1,camera,A,sw-1,traffic\n"
    dry = await api.client.post(
        "/api/v1/devices/import", params={"dry_run": True}, content=good.encode(), headers=h
    )
    assert dry.status_code == 200 and dry.json()["created"] == 2
    assert (await api.client.get("/api/v1/devices", headers=h)).json()["total"] == 0
    done = await api.client.post("/api/v1/devices/import", content=good.encode(), headers=h)
    assert done.status_code == 200 and done.json()["created"] == 2

    exported = await api.client.get(
        "/api/v1/devices/export", params={"format": "yaml"}, headers=api.as_("admin")
    )
    assert exported.status_code == 200 and "cam-1" in exported.text
    again = await api.client.post(
        "/api/v1/devices/import",
        params={"format": "yaml"},
        content=exported.content,
        headers={**api.as_("admin"), "Content-Type": "application/yaml"},
    )
    assert again.json()["unchanged"] == 2
