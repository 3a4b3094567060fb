"""Per-device credentials and ACLs on a real Mosquitto, and revocation without a restart."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.onboard import revoke_sensor
from provisioning.mqtt.topics import TopicKind, device_topic
from tests.mqtt.conftest import ADMIN, onboard
from tests.support.mosquitto import INGEST_USER, Broker


def client(broker: Broker, username: str | int, password: str) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=str(username), password=password)


async def collect_until(mqtt: aiomqtt.Client, last: bytes, seconds: float = 10.0) -> list[tuple[str, bytes]]:
    """Messages received up to and including the first whose payload is ``last``; fails after ``seconds``.

    ``last`` is published after everything the test expects not to arrive: Mosquitto routes on one thread
    and sends each subscriber its messages in the order it routed them, so anything that got through
    would come before it."""
    got: list[tuple[str, bytes]] = []
    async with asyncio.timeout(seconds):
        async for message in mqtt.messages:
            got.append((message.topic.value, bytes(message.payload)))
            if got[-1][1] == last:
                return got
    raise AssertionError(f"the message stream ended before {last!r}: {got}")


async def test_onboarded_sensor_connects_with_its_generated_password_only(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    text = broker.files.password_file.read_text()
    assert f"{device}:$7$" in text and password not in text
    async with client(broker, device, password) as sensor:
        await sensor.publish(device_topic(device, TopicKind.STATUS), b"online", qos=1)
    with pytest.raises(aiomqtt.MqttError, match=r"(?i)not authori[sz]ed|bad user name or password"):
        async with client(broker, device, "wrong-password"):
            pass


async def test_device_publishes_only_under_its_own_prefix_and_reads_only_its_own_commands(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (a, a_password), (b, b_password) = await onboard(sessions, 2)
    await broker.sync(sessions)
    async with (
        client(broker, INGEST_USER, broker.ingest_password) as platform,
        client(broker, a, a_password) as device_a,
        client(broker, b, b_password) as device_b,
    ):
        await platform.subscribe("ioc/v1/d/#", qos=1)
        await device_a.subscribe("ioc/v1/d/+/cmd", qos=1)  # asks for everyone's commands
        await device_b.subscribe(device_topic(b, TopicKind.CMD), qos=1)
        await device_a.publish(device_topic(b, TopicKind.TELEMETRY), b"forged", qos=1)
        await device_a.publish(device_topic(a, TopicKind.CMD), b"self-command", qos=1)
        await device_a.publish(device_topic(a, TopicKind.TELEMETRY), b"mine", qos=1)
        await platform.publish(device_topic(b, TopicKind.CMD), b"for-b", qos=1)
        await platform.publish(device_topic(a, TopicKind.CMD), b"for-a", qos=1)
        seen_by_platform = await collect_until(platform, b"mine")
        seen_by_a = await collect_until(device_a, b"for-a")
        seen_by_b = await collect_until(device_b, b"for-b")
    assert (device_topic(a, TopicKind.TELEMETRY), b"mine") in seen_by_platform
    assert all(payload not in (b"forged", b"self-command") for _, payload in seen_by_platform)
    assert seen_by_a == [(device_topic(a, TopicKind.CMD), b"for-a")]
    assert seen_by_b == [(device_topic(b, TopicKind.CMD), b"for-b")]


async def test_revoked_sensor_is_cut_off_without_restarting_the_broker(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (device, password), (other, other_password) = await onboard(sessions, 2)
    await broker.sync(sessions)
    pid_before = broker.pid
    topic = device_topic(device, TopicKind.TELEMETRY)
    async with client(broker, INGEST_USER, broker.ingest_password) as platform:
        await platform.subscribe("ioc/v1/d/+/telemetry", qos=1)
        cut_off = False
        async with client(broker, device, password) as sensor:
            await sensor.publish(topic, b"before", qos=1)
            async with sessions() as session, session.begin():
                assert await revoke_sensor(session, ADMIN, device)
            await broker.sync(sessions)
            try:
                for _ in range(20):
                    await sensor.publish(topic, b"after", qos=1, timeout=1)
                    await asyncio.sleep(0.05)
            except aiomqtt.MqttError:
                cut_off = True
        async with client(broker, other, other_password) as still_valid:  # after every "after"
            await still_valid.publish(device_topic(other, TopicKind.TELEMETRY), b"later", qos=1)
        received = await collect_until(platform, b"later")
    assert cut_off, "Mosquitto kept the revoked client connected"
    assert [payload for _, payload in received] == [b"before", b"later"]
    assert broker.pid == pid_before and broker.process.running
    assert f"{device}:" not in broker.files.password_file.read_text()
    with pytest.raises(aiomqtt.MqttError):
        async with client(broker, device, password):
            pass
