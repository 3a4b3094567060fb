"""``POST /api/v1/mqtt/discover`` and ``ioc discover mqtt`` on a real Mosquitto: a publisher whose device
key is no registered device is a candidate, a registered one is not, a silent one is listed apart,
and the listen ends on time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox, generate_key
from device_registry.models import SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from ioc.settings import Settings
from provisioning.mqtt.broker import reload_broker
from provisioning.mqtt.credentials import active_credentials
from provisioning.mqtt.onboard import onboard_sensor
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.topics import TopicKind, device_topic
from tests.mqtt.conftest import ADMIN
from tests.registry.seed import build_world
from tests.support.mosquitto import Broker

IOC = str(Path(sys.executable).parent / "ioc")
STRAY = 987654
"""A device key the broker lets in (a stale password-file entry) but the registry does not know."""


@pytest.fixture
def settings(tmp_path: Path, broker: Broker) -> Settings:
    """The app over the ``sessions`` fixture's database, with the broker as the platform's."""
    return Settings(
        home=tmp_path / "home",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        secret_key=generate_key(),
        mqtt_url=broker.ingest_url,
    )


async def _sensors(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, str, int]:
    """Two sensors in commune A: one that publishes (id, password) and one that stays silent (id)."""
    box = SecretBox(generate_key())
    async with sessions() as session, session.begin():
        talker = await onboard_sensor(session, ADMIN, box, "water-level-a-1", "A")
        quiet = await onboard_sensor(session, ADMIN, box, "water-level-a-2", "A")
    return talker.device_id, talker.password.get_secret_value(), quiet.device_id


async def _let_stray_in(broker: Broker, sessions: async_sessionmaker[AsyncSession]) -> str:
    password = generate_password()
    devices = {**await active_credentials(sessions), STRAY: hash_password(password)}
    before = broker.reloads()
    broker.files.write_auth(devices, broker.service_users)
    reload_broker(broker.pid)
    await broker.wait_reloaded(before)
    return password


async def _publish(port: int, device: int, password: str, kind: TopicKind, payload: bytes) -> None:
    """Publish every 0.1 s until cancelled (a rate: the discovery listens for a fixed time)."""
    async with aiomqtt.Client("127.0.0.1", port, username=str(device), password=password) as client:
        while True:
            await client.publish(device_topic(device, kind), payload, qos=0)
            await asyncio.sleep(0.1)


@dataclass
class Publishing:
    talker: int
    quiet: int
    tokens: dict[str, str]


@pytest.fixture
async def publishing(broker: Broker, sessions) -> AsyncIterator[Publishing]:
    """The stray key and a registered sensor publishing every 0.1 s, a second sensor silent."""
    world = await build_world(sessions)
    async with sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="ZZ", name="Xã khác", kind=SiteKind.COMMUNE))
    talker, talker_password, quiet = await _sensors(sessions)
    await broker.sync(sessions)
    stray_password = await _let_stray_in(broker, sessions)
    stray = b'{"fields": {"water_level": 1.42, "pump_on": true}}'
    known = b'[{"bn": "urn:dev:ioc:%d:", "n": "level", "v": 1}]' % talker
    tasks = [
        asyncio.create_task(_publish(broker.port, STRAY, stray_password, TopicKind.TELEMETRY, stray)),
        asyncio.create_task(_publish(broker.port, talker, talker_password, TopicKind.SENML, known)),
    ]
    try:
        yield Publishing(talker, quiet, world.tokens)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_stray_publisher_is_a_candidate_registered_one_is_not(api, publishing) -> None:
    api.tokens.update(publishing.tokens)
    started = time.monotonic()
    answered = await api.client.post(
        "/api/v1/mqtt/discover", json={"listen_s": 1.5}, headers=api.as_("engineer_a")
    )
    elapsed = time.monotonic() - started
    assert answered.status_code == 200, answered.text
    assert 1.5 <= elapsed < 6  # the listen ends on time (connect and classify included)
    body = answered.json()
    assert [f["device_key"] for f in body["found"]] == [str(STRAY)]
    [stray] = body["found"]
    assert stray["device_id"] == STRAY and stray["topics"] == ["telemetry"]
    assert stray["fields"] == ["water_level", "pump_on"] and stray["messages"] >= 3
    assert stray["first_seen"] <= stray["last_seen"]
    assert body["complete"] is True and 1.5 <= body["listen_s"] < 2.5
    assert body["publishers"] == 2 and body["registered_heard"] == 1
    assert [d["device_id"] for d in body["silent"]] == [publishing.quiet] and body["silent_total"] == 1
    assert "pw" not in body["broker"] and body["broker"].startswith("mqtt://127.0.0.1:")

    too_long = await api.client.post(
        "/api/v1/mqtt/discover", json={"listen_s": 31}, headers=api.as_("engineer_a")
    )
    assert too_long.status_code == 422 and "listen_s" in too_long.text
    for who, status in (("maintenance_a", 403), ("operator", 403), (None, 401)):
        headers = api.as_(who) if who else {}
        refused = await api.client.post("/api/v1/mqtt/discover", json={"listen_s": 0.5}, headers=headers)
        assert refused.status_code == status, (who, refused.text)


async def test_cli_discover_prints_the_api_model(api, publishing, broker: Broker, tmp_path: Path) -> None:
    """``ioc --json discover mqtt`` (the platform's broker from IOC_MQTT_URL) prints the API's model."""
    env = {**os.environ, **broker.serve_env(tmp_path, "unused")}
    done = await asyncio.to_thread(
        subprocess.run,
        [IOC, "--json", "discover", "mqtt", "--listen", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    api.tokens.update(publishing.tokens)
    answered = (
        await api.client.post("/api/v1/mqtt/discover", json={"listen_s": 1}, headers=api.as_("admin"))
    ).json()
    assert set(printed) == set(answered) and set(printed["found"][0]) == set(answered["found"][0])
    for body in (printed, answered):
        assert [f["device_key"] for f in body["found"]] == [str(STRAY)]
        assert body["registered_heard"] == 1 and [d["device_id"] for d in body["silent"]] == [
            publishing.quiet
        ]
    assert ioc_refuses_a_long_listen(env)


def ioc_refuses_a_long_listen(env: dict[str, str]) -> bool:
    done = subprocess.run(
        [IOC, "--json", "discover", "mqtt", "--listen", "31"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return done.returncode == 2 and "--listen" in done.stderr
