"""Nothing lost, nothing doubled: QoS 1 redelivery after a crash; two ingest processes sharing a stream."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.topics import TopicKind, device_topic
from tests.mqtt.conftest import onboard
from tests.mqtt.sinks import read_points
from tests.support.mosquitto import Broker
from tests.support.process import ManagedProcess

REPO = Path(__file__).resolve().parents[2]


def ingest_process(broker: Broker, tmp: Path, client_id: str, *, hang: bool = False) -> ManagedProcess:
    argv = [
        sys.executable,
        "-m",
        "tests.mqtt.ingest_proc",
        str(broker.port),
        broker.ingest_password,
        str(tmp / "registry.db"),
        str(tmp / f"sink-{client_id}.jsonl"),
        client_id,
        str(tmp / f"ready-{client_id}"),
    ]
    if hang:
        argv += ["--hang", str(tmp / f"received-{client_id}")]
    (tmp / f"ready-{client_id}").unlink(missing_ok=True)

    def ready() -> None:
        deadline = time.monotonic() + 20
        while not (tmp / f"ready-{client_id}").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("ingest did not subscribe")
            time.sleep(0.05)

    return ManagedProcess(argv, tmp / f"ingest-{client_id}.log", ready=ready, cwd=REPO)


async def publish_sequence(broker: Broker, device_ids: list[int], passwords: list[str], count: int) -> None:
    """``count`` messages per device, each carrying a unique sequence number as its value."""

    async def one(device_id: int, password: str) -> None:
        topic = device_topic(device_id, TopicKind.SENML)
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device_id), password=password
        ) as client:
            await asyncio.gather(
                *(client.publish(topic, json.dumps([{"n": "seq", "v": i}]), qos=1) for i in range(count))
            )

    await asyncio.gather(*(one(d, p) for d, p in zip(device_ids, passwords, strict=True)))


def seqs(path: Path) -> list[tuple[str, float]]:
    return [(str(p["tags"]["device_id"]), float(p["f"]["seq"])) for p in read_points(path)]  # type: ignore[index]


async def wait_for(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_messages_received_but_not_acked_are_redelivered_after_the_ingest_is_killed(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    sink = tmp_path / "sink-ingest-a.jsonl"
    crashing = ingest_process(broker, tmp_path, "ingest-a", hang=True).start()
    try:
        await publish_sequence(broker, [device], [password], 200)
        await wait_for(lambda: (tmp_path / "received-ingest-a").exists(), 20, "receipt")
        crashing.kill()  # SIGKILL: received, handed to the sink, never durable, never acked
    finally:
        crashing.stop()
    assert seqs(sink) == []
    restarted = ingest_process(broker, tmp_path, "ingest-a").start()
    try:
        await wait_for(lambda: len(seqs(sink)) >= 200, 30, "redelivery")
        await asyncio.sleep(0.3)
    finally:
        restarted.stop()
    got = seqs(sink)
    assert sorted(v for _, v in got) == [float(i) for i in range(200)]


async def test_two_ingest_processes_split_one_stream_without_loss_or_duplicates(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    onboarded = await onboard(sessions, 4)
    devices = [device for device, _ in onboarded]
    passwords = [password for _, password in onboarded]
    await broker.sync(sessions)
    first = ingest_process(broker, tmp_path, "ingest-a").start()
    second = ingest_process(broker, tmp_path, "ingest-b").start()
    sinks = [tmp_path / "sink-ingest-a.jsonl", tmp_path / "sink-ingest-b.jsonl"]
    per_device = 500
    try:
        await publish_sequence(broker, devices, passwords, per_device)
        await wait_for(
            lambda: sum(len(seqs(s)) for s in sinks) >= per_device * len(devices), 60, "all messages"
        )
        await asyncio.sleep(0.5)
    finally:
        first.stop()
        second.stop()
    a, b = seqs(sinks[0]), seqs(sinks[1])
    assert a and b, f"one process got nothing: {len(a)} / {len(b)}"
    everything = a + b
    assert len(everything) == len(set(everything)) == per_device * len(devices)
    assert set(everything) == {(str(d), float(i)) for d in devices for i in range(per_device)}


async def test_a_crashed_ingest_keeps_its_share_in_its_session_and_gets_it_on_return(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Mosquitto 2.0 hands a shared subscription's messages round-robin to every member session,
    offline persistent ones included: nothing is lost, but an instance's share waits for it to
    come back under the same client id (see docs/mqtt.md, scale-out)."""
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    survivor = ingest_process(broker, tmp_path, "ingest-a").start()
    crashed = ingest_process(broker, tmp_path, "ingest-b").start()
    crashed.kill()
    sinks = [tmp_path / "sink-ingest-a.jsonl", tmp_path / "sink-ingest-b.jsonl"]
    try:
        await publish_sequence(broker, [device], [password], 100)
        await wait_for(lambda: len(seqs(sinks[0])) > 0, 30, "the survivor's share")
        await asyncio.sleep(1.0)
        kept = len(seqs(sinks[0]))
        assert 0 < kept < 100 and seqs(sinks[1]) == [], kept  # the rest waits in the crashed session
        returned = ingest_process(broker, tmp_path, "ingest-b").start()
        try:
            await wait_for(lambda: len(seqs(sinks[1])) >= 100 - kept, 30, "the returning instance's share")
        finally:
            returned.stop()
    finally:
        survivor.stop()
    assert sorted(v for s in sinks for _, v in seqs(s)) == [float(i) for i in range(100)]
