"""The alerts REST API: scope decides what a user sees, role decides who may acknowledge or resolve."""

from __future__ import annotations

import httpx
import pytest

from device_registry.crypto import generate_key
from ioc.app import create_app
from ioc.settings import Settings
from monitors.events import DeviceState
from tests.alerting.scenario import change, configure, drain


@pytest.fixture
async def client(db_url, tmp_path, settings):
    app = create_app(
        Settings(home=tmp_path / "home", database_url=db_url, secret_key=generate_key(), alerting=settings)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as http:
            yield http


def as_(world, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


async def test_maintenance_sees_and_acknowledges_only_its_commune(
    context, world, service, webhook, clock, client
):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))  # Tân Hòa
    await service.handle(change(104, DeviceState.DOWN, clock.now()))  # Vũ Lễ

    assert (await client.get("/api/v1/alerts")).status_code == 401
    mine = (await client.get("/api/v1/alerts", headers=as_(world, "lan"))).json()
    assert [a["device_name"] for a in mine] == ["CAM-TANHOA-01"]
    everything = (await client.get("/api/v1/alerts", headers=as_(world, "minh"))).json()
    assert [a["device_name"] for a in everything] == ["CAM-VULE-01", "CAM-TANHOA-01"]
    tan_hoa, vu_le = everything[1]["id"], everything[0]["id"]

    hidden = await client.post(
        f"/api/v1/alerts/{vu_le}/ack", json={"comment": "x"}, headers=as_(world, "lan")
    )
    assert hidden.status_code == 404
    acked = await client.post(
        f"/api/v1/alerts/{tan_hoa}/ack", json={"comment": "Đang đến hiện trường"}, headers=as_(world, "lan")
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledgements"][0]["user"] == "lan"

    engineer = await client.post(f"/api/v1/alerts/{vu_le}/ack", json={}, headers=as_(world, "viewer"))
    assert engineer.status_code == 403 and "may not acknowledge alerts" in engineer.json()["detail"]

    told = await client.get(f"/api/v1/alerts/{tan_hoa}/deliveries", headers=as_(world, "lan"))
    assert [(d["channel"], d["message_kind"], d["status"]) for d in told.json()] == [
        ("main", "firing", "pending")
    ]
    resolved = await client.post(f"/api/v1/alerts/{vu_le}/resolve", headers=as_(world, "minh"))
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = await client.post(f"/api/v1/alerts/{vu_le}/resolve", headers=as_(world, "minh"))
    assert again.status_code == 409 and again.json()["field"] == "status"
    closed = await client.get("/api/v1/alerts", params={"status": "resolved"}, headers=as_(world, "minh"))
    assert [a["id"] for a in closed.json()] == [vu_le]
    assert (await client.get(f"/api/v1/alerts/{vu_le}", headers=as_(world, "hoa"))).json()[
        "status"
    ] == "resolved"
    assert (await client.get(f"/api/v1/alerts/{vu_le}", headers=as_(world, "lan"))).status_code == 404


async def test_delivery_errors_are_shown_to_admins_only(context, world, service, clock, client, sessions):
    """A channel whose URL carries a bot token fails to deliver (nothing listens on the port): the
    maintainer of the commune sees that it failed, only an admin sees the error text."""
    from device_registry.models import Role
    from device_registry.schemas.users import TokenCreate, UserCreate
    from device_registry.services.users import create_user, issue_token
    from tests.alerting.world import ADMIN

    dead = "json://127.0.0.1:9/hook?token=bot-secret-123"
    await configure(context, world, commune_url=dead, district_url=dead, province_url=dead)
    await service.handle(change(101, DeviceState.DOWN, clock.now()))  # Tân Hòa
    await drain(service.worker)
    async with sessions() as session, session.begin():
        admin = await create_user(session, ADMIN, UserCreate(username="quan-tri", role=Role.ADMIN))
        world.tokens["quan-tri"] = (await issue_token(session, ADMIN, admin, TokenCreate())).token
    (alert,) = (await client.get("/api/v1/alerts", headers=as_(world, "lan"))).json()

    seen = (await client.get(f"/api/v1/alerts/{alert['id']}/deliveries", headers=as_(world, "lan"))).json()
    failed = [d for d in seen if d["ok"] is False]
    assert failed and all(d["error"] == "delivery failed (an admin sees why)" for d in failed)
    assert "127.0.0.1" not in str(seen) and "bot-secret" not in str(seen)
    full = await client.get(f"/api/v1/alerts/{alert['id']}/deliveries", headers=as_(world, "quan-tri"))
    errors = [d["error"] for d in full.json() if d["ok"] is False]
    assert errors and all(e and e != "delivery failed (an admin sees why)" for e in errors)
