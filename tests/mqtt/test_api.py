"""REST: onboarding returns the password once and pushes it to the broker; dead letters follow scope."""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import httpx
import pytest

from device_registry.authz import Principal
from device_registry.crypto import generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Role, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.sites import create_site
from device_registry.services.users import create_user, issue_token
from ioc.app import create_app
from ioc.migrate import upgrade
from ioc.mqtt_broker import broker_files
from ioc.settings import Settings
from provisioning.mqtt.topics import TopicKind, device_topic
from provisioning.mqtt.url import MqttUrl
from telemetry.ingest.deadletters import DeadLetterStore, NewDeadLetter
from telemetry.ingest.records import Rejection, RejectReason
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

ADMIN = Principal.system("test-api")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Settings, dict[str, str]]]:
    port = free_port()
    settings = Settings(
        home=tmp_path / "home",
        secret_key=generate_key(),
        mqtt_url=MqttUrl.model_validate(f"mqtt://ioc-ingest:pw@127.0.0.1:{port}"),
    )
    settings.home.mkdir(parents=True)
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    tokens = {}
    async with session_factory(engine)() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="A", name="Xã A", kind=SiteKind.COMMUNE))
        await create_site(session, ADMIN, SiteCreate(code="B", name="Xã B", kind=SiteKind.COMMUNE))
        for name, role, scope in (("admin", Role.ADMIN, None), ("eng_b", Role.ENGINEER, "B")):
            user = await create_user(
                session, ADMIN, UserCreate(username=name, role=role, scope_site_code=scope)
            )
            tokens[name] = (await issue_token(session, ADMIN, user, TokenCreate())).token
    await engine.dispose()
    yield settings, tokens


async def test_sensor_onboarded_over_rest_connects_and_dead_letters_follow_scope(
    world: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, tokens = world
    assert settings.mqtt_url is not None
    port = settings.mqtt_url.port
    files = broker_files(settings)
    config = files.write_config(port, run_as_user=getpass.getuser() if os.geteuid() == 0 else None)
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    broker = ManagedProcess(
        [binary, "-c", str(config)], tmp_path / "broker.log", ready=lambda: wait_for_tcp(port)
    )
    broker.start()
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as api:
                admin = {"Authorization": f"Bearer {tokens['admin']}"}
                eng_b = {"Authorization": f"Bearer {tokens['eng_b']}"}
                created = await api.post(
                    "/api/v1/mqtt/onboard", json={"name": "aq-a-1", "site_code": "A"}, headers=admin
                )
                assert created.status_code == 201, created.text
                sensor = created.json()
                assert sensor["broker"].startswith("broker reloaded")
                # the onboard shape of every protocol, with the password in its own clearly-named field
                assert set(sensor) == {
                    *("device_id", "name", "kind", "notes", "probe"),
                    *("username", "one_time_password", "topics", "broker"),
                }
                assert (sensor["name"], sensor["kind"], sensor["probe"]) == ("aq-a-1", "sensor", None)
                assert sensor["username"] == str(sensor["device_id"]) and len(sensor["notes"]) == 1
                in_b = await api.post(
                    "/api/v1/mqtt/onboard", json={"name": "aq-b-1", "site_code": "B"}, headers=eng_b
                )
                assert in_b.status_code == 201, in_b.text
                forbidden = await api.post(
                    f"/api/v1/mqtt/devices/{sensor['device_id']}/revoke", headers=eng_b
                )
                assert forbidden.status_code in (403, 404)

                device = sensor["device_id"]
                async with aiomqtt.Client(
                    "127.0.0.1", port, username=str(device), password=sensor["one_time_password"]
                ):
                    pass  # the broker knows the password the API showed once

                engine = create_engine(settings.effective_database_url)
                store = DeadLetterStore(session_factory(engine))
                for dev in (device, in_b.json()["device_id"], 999):
                    why = Rejection(RejectReason.NOT_JSON, "x")
                    await store.add(
                        [NewDeadLetter(device_topic(dev, TopicKind.SENML), dev, why, b"?", 1.79e9)]
                    )
                await engine.dispose()
                every = (await api.get("/api/v1/deadletters", headers=admin)).json()
                scoped = (await api.get("/api/v1/deadletters", headers=eng_b)).json()
                assert {d["device_id"] for d in every} == {device, in_b.json()["device_id"], 999}
                assert [d["device_id"] for d in scoped] == [in_b.json()["device_id"]]

                revoked = await api.post(f"/api/v1/mqtt/devices/{device}/revoke", headers=admin)
                assert revoked.status_code == 200 and revoked.json()["revoked"] is True
                with pytest.raises(aiomqtt.MqttError):
                    async with aiomqtt.Client(
                        "127.0.0.1", port, username=str(device), password=sensor["one_time_password"]
                    ):
                        pass
                listed = await api.get(f"/api/v1/devices/{device}", headers=admin)
                assert sensor["one_time_password"] not in listed.text
    finally:
        broker.stop()
