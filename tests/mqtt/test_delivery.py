"""Nothing lost, nothing doubled: QoS 1 redelivery after a crash; two ingest processes sharing a stream.

Each ingest process writes through the real telemetry writer (its own spool) into a real InfluxDB. Every
message carries its own time, so InfluxDB holds one point per message: the set of stored values shows
nothing was lost, and the writers' ``points_spooled`` counters show nothing was written twice (InfluxDB
would silently merge a duplicate into its original).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import closing
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.spool import SPOOL_FILE, connect, read_status
from tests.mqtt.conftest import onboard
from tests.support.mosquitto import Broker
from tests.support.process import ManagedProcess
from tests.support.tsdb import InfluxServer
from tests.support.waits import wait_until, wait_until_sync

REPO = Path(__file__).resolve().parents[2]


def ingest_process(
    broker: Broker, influxdb: InfluxServer, tmp: Path, client_id: str, *, hang: bool = False
) -> ManagedProcess:
    argv = [
        sys.executable,
        "-m",
        "tests.mqtt.ingest_proc",
        str(broker.port),
        broker.ingest_password,
        str(tmp / "registry.db"),
        influxdb.url,
        str(tmp / f"spool-{client_id}"),
        client_id,
        str(tmp / f"ready-{client_id}"),
    ]
    if hang:
        argv += ["--hang", str(tmp / f"received-{client_id}")]
    (tmp / f"ready-{client_id}").unlink(missing_ok=True)

    def ready() -> None:
        wait_until_sync((tmp / f"ready-{client_id}").exists, 20, f"{client_id} subscribed (its ready file)")

    return ManagedProcess(argv, tmp / f"ingest-{client_id}.log", ready=ready, cwd=REPO)


async def publish_sequence(broker: Broker, device_ids: list[int], passwords: list[str], count: int) -> None:
    """``count`` messages per device, each carrying a unique sequence number as its value and its own
    time (an hour ago plus the sequence in milliseconds)."""
    t0 = time.time() - 3600

    async def one(device_id: int, password: str) -> None:
        topic = device_topic(device_id, TopicKind.SENML)
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device_id), password=password
        ) as client:
            await asyncio.gather(
                *(
                    client.publish(topic, json.dumps([{"n": "seq", "v": i, "t": t0 + i / 1000}]), qos=1)
                    for i in range(count)
                )
            )

    await asyncio.gather(*(one(d, p) for d, p in zip(device_ids, passwords, strict=True)))


def stored(influxdb: InfluxServer) -> list[tuple[str, float]]:
    """(device id, sequence number) of every point in InfluxDB."""
    series = influxdb.query('SELECT "seq", "device_id" FROM "sensor"')
    return [(str(device), float(seq)) for series_ in series for _, seq, device in series_["values"]]


def spooled(tmp: Path, client_id: str) -> int:
    """Points that ingest process handed to its writer, over all its runs (the spool keeps the count)."""
    path = tmp / f"spool-{client_id}" / SPOOL_FILE
    if not path.exists():
        return 0
    with closing(connect(path)) as conn:
        return read_status(conn, path).counters["points_spooled"]


async def test_messages_received_but_not_acked_are_redelivered_after_the_ingest_is_killed(
    broker: Broker, influxdb: InfluxServer, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    crashing = ingest_process(broker, influxdb, tmp_path, "ingest-a", hang=True).start()
    try:
        await publish_sequence(broker, [device], [password], 200)
        await wait_until(lambda: (tmp_path / "received-ingest-a").exists(), 20, "receipt")
        crashing.kill()  # SIGKILL: received, handed to the sink, never durable, never acked
    finally:
        crashing.stop()
    assert stored(influxdb) == [] and spooled(tmp_path, "ingest-a") == 0
    restarted = ingest_process(broker, influxdb, tmp_path, "ingest-a").start()
    try:
        await wait_until(lambda: len(stored(influxdb)) >= 200, 30, "redelivery into InfluxDB", every=0.1)
    finally:
        restarted.stop()
    assert sorted(v for _, v in stored(influxdb)) == [float(i) for i in range(200)]
    assert spooled(tmp_path, "ingest-a") == 200


async def test_two_ingest_processes_split_one_stream_without_loss_or_duplicates(
    broker: Broker, influxdb: InfluxServer, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    onboarded = await onboard(sessions, 4)
    devices = [device for device, _ in onboarded]
    passwords = [password for _, password in onboarded]
    await broker.sync(sessions)
    first = ingest_process(broker, influxdb, tmp_path, "ingest-a").start()
    second = ingest_process(broker, influxdb, tmp_path, "ingest-b").start()
    per_device = 500
    total = per_device * len(devices)
    try:
        await publish_sequence(broker, devices, passwords, per_device)
        await wait_until(lambda: len(stored(influxdb)) >= total, 60, "all messages in InfluxDB", every=0.1)
    finally:
        first.stop()
        second.stop()
    a, b = spooled(tmp_path, "ingest-a"), spooled(tmp_path, "ingest-b")
    assert a and b, f"one process got nothing: {a} / {b}"
    assert a + b == total, f"{a} + {b} points written for {total} messages"
    everything = stored(influxdb)
    assert len(everything) == total
    assert set(everything) == {(str(d), float(i)) for d in devices for i in range(per_device)}


async def test_a_crashed_ingest_keeps_its_share_in_its_session_and_gets_it_on_return(
    broker: Broker, influxdb: InfluxServer, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Mosquitto 2.0 hands a shared subscription's messages round-robin to every member session,
    offline persistent ones included: nothing is lost, but an instance's share waits for it to
    come back under the same client id (see docs/mqtt.md, scale-out)."""
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    await broker.log_also("debug")  # to count what the broker sends the survivor
    survivor = ingest_process(broker, influxdb, tmp_path, "ingest-a").start()
    crashed = ingest_process(broker, influxdb, tmp_path, "ingest-b").start()
    crashed.kill()
    try:
        await publish_sequence(broker, [device], [password], 100)
        share = broker.publishes_sent("ingest-a")  # final: the broker sends before it acks the sensor
        await wait_until(
            lambda: len(stored(influxdb)) >= share, 30, f"the survivor's {share} in InfluxDB", every=0.1
        )
        kept = len(stored(influxdb))
        assert 0 < kept == share < 100, (kept, share)  # the rest waits in the crashed session
        assert (spooled(tmp_path, "ingest-a"), spooled(tmp_path, "ingest-b")) == (kept, 0)
        returned = ingest_process(broker, influxdb, tmp_path, "ingest-b").start()
        try:
            await wait_until(
                lambda: len(stored(influxdb)) >= 100, 30, "the returning instance's share", every=0.1
            )
        finally:
            returned.stop()
    finally:
        survivor.stop()
    assert sorted(v for _, v in stored(influxdb)) == [float(i) for i in range(100)]
    assert spooled(tmp_path, "ingest-a") + spooled(tmp_path, "ingest-b") == 100
