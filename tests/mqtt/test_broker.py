"""Per-device credentials and ACLs on a real Mosquitto, and revocation without a restart."""

from __future__ import annotations

import asyncio
import contextlib

import aiomqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.credentials import issue_credential, revoke_credential
from provisioning.mqtt.topics import TopicKind, device_topic
from tests.mqtt.conftest import INGEST_USER, Broker


def device_client(broker: Broker, username: str, password: str, **kwargs: object) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=username, password=password, **kwargs)  # type: ignore[arg-type]


async def collect(client: aiomqtt.Client, seconds: float) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                got.append((message.topic.value, bytes(message.payload)))
    return got


async def test_onboarded_sensor_connects_with_its_generated_password_only(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_credential(sessions, 41)
    await broker.sync(sessions)
    assert issued.username == "41"
    assert "41:$7$" in broker.files.password_file.read_text()
    assert issued.password.get_secret_value() not in broker.files.password_file.read_text()
    async with device_client(broker, "41", issued.password.get_secret_value()) as client:
        await client.publish(device_topic(41, TopicKind.STATUS), b"online", qos=1)
    with pytest.raises(aiomqtt.MqttError, match=r"(?i)not authori[sz]ed|bad user name or password"):
        async with device_client(broker, "41", "wrong-password"):
            pass


async def test_device_publishes_only_under_its_own_prefix_and_reads_only_its_own_commands(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a = await issue_credential(sessions, 41)
    b = await issue_credential(sessions, 42)
    await broker.sync(sessions)
    async with (
        device_client(broker, INGEST_USER, broker.ingest_password) as platform,
        device_client(broker, "41", a.password.get_secret_value()) as device_a,
        device_client(broker, "42", b.password.get_secret_value()) as device_b,
    ):
        await platform.subscribe("ioc/v1/d/#", qos=1)
        await device_a.subscribe("ioc/v1/d/+/cmd", qos=1)  # asks for everyone's commands
        await device_b.subscribe(device_topic(42, TopicKind.CMD), qos=1)
        await device_a.publish(device_topic(42, TopicKind.TELEMETRY), b"forged", qos=1)
        await device_a.publish(device_topic(41, TopicKind.CMD), b"self-command", qos=1)
        await device_a.publish(device_topic(41, TopicKind.TELEMETRY), b"mine", qos=1)
        await platform.publish(device_topic(42, TopicKind.CMD), b"for-b", qos=1)
        await platform.publish(device_topic(41, TopicKind.CMD), b"for-a", qos=1)
        seen_by_platform = await collect(platform, 1.0)
        seen_by_a = await collect(device_a, 0.3)
        seen_by_b = await collect(device_b, 0.3)
    assert (device_topic(41, TopicKind.TELEMETRY), b"mine") in seen_by_platform
    assert all(payload not in (b"forged", b"self-command") for _, payload in seen_by_platform)
    assert seen_by_a == [(device_topic(41, TopicKind.CMD), b"for-a")]
    assert seen_by_b == [(device_topic(42, TopicKind.CMD), b"for-b")]


async def test_revoked_sensor_is_cut_off_without_restarting_the_broker(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    issued = await issue_credential(sessions, 41)
    await broker.sync(sessions)
    pid_before = broker.pid
    password = issued.password.get_secret_value()
    async with device_client(broker, INGEST_USER, broker.ingest_password) as platform:
        await platform.subscribe("ioc/v1/d/+/telemetry", qos=1)
        cut_off = False
        async with device_client(broker, "41", password) as device:
            await device.publish(device_topic(41, TopicKind.TELEMETRY), b"before", qos=1)
            assert await revoke_credential(sessions, 41)
            await broker.sync(sessions)
            try:
                for _ in range(20):
                    await device.publish(device_topic(41, TopicKind.TELEMETRY), b"after", qos=1, timeout=1)
                    await asyncio.sleep(0.05)
            except aiomqtt.MqttError:
                cut_off = True
        received = await collect(platform, 0.5)
    assert cut_off, "Mosquitto kept the revoked client connected"
    assert [payload for _, payload in received] == [b"before"]
    assert broker.pid == pid_before and broker.process.running
    with pytest.raises(aiomqtt.MqttError):
        async with device_client(broker, "41", password):
            pass
