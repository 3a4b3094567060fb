"""A plain `ioc serve` (every service) stopped with SIGTERM mid-stream: it stops reading, stores and
acknowledges the batch in hand, delivers its spool to InfluxDB, and exits 0; restarted, it picks up
what the broker kept for its session, and InfluxDB holds every message sent. (InfluxDB merges a
redelivered duplicate into its original, so this test proves nothing lost, not nothing doubled: the
ingest delivery tests count doubles through the writers' spool counters.)"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
import time
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.spool import SPOOL_FILE
from tests.mqtt.conftest import onboard
from tests.support.mosquitto import Broker
from tests.support.process import ManagedProcess, free_port
from tests.support.tsdb import InfluxServer
from tests.support.waits import wait_until

T0 = int(time.time()) - 86_400
"""A day ago, in whole seconds: inside the window the ingest accepts whenever the suite runs."""
SENT = 1200
STOP_BOUND_S = 20.0
"""drain_s (5) + the writer's stop_timeout (5) + start-up slack on a loaded machine."""


def _pending(home: Path) -> int:
    with sqlite3.connect(home / "spool" / SPOOL_FILE) as conn:
        return int(conn.execute("SELECT count(*) FROM pending").fetchone()[0])


async def test_sigterm_mid_stream_drains_and_a_restart_stores_every_message(
    tmp_path: Path, broker: Broker, influxdb: InfluxServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    home = tmp_path / "home"
    env = broker.serve_env(tmp_path, "drain", influxdb.url)

    def serve(run: int) -> ManagedProcess:
        process = ManagedProcess(
            [sys.executable, "-m", "ioc", "serve", "--port", str(free_port())],
            tmp_path / f"serve{run}.log",
            ready=lambda: broker.wait_ingest_subscribed("drain", connections=run),
            env=env,
        )
        return process.start()

    first = second = None
    try:
        ((device, password),) = await onboard(sessions, 1)
        await broker.sync(sessions)
        first = serve(1)
        assert first.process is not None
        stored_at_stop = 0
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device), password=password
        ) as client:
            for i in range(SENT):
                payload = {"ts": T0 + i, "fields": {"temperature": 20 + i % 10, "humidity": 60.5}}
                await client.publish(device_topic(device, TopicKind.TELEMETRY), json.dumps(payload), qos=1)
                if i == SENT // 3:
                    first.process.send_signal(signal.SIGTERM)  # mid-stream; publishing carries on
                    stopped = time.monotonic()
                if i % 50 == 0:
                    await asyncio.sleep(0.01)  # a steady stream, not one burst
        returncode = await asyncio.to_thread(first.process.wait, STOP_BOUND_S)
        assert returncode == 0, first.log_tail()
        assert time.monotonic() - stopped < STOP_BOUND_S
        assert _pending(home) == 0  # what it had taken reached InfluxDB before it exited
        stored_at_stop = await asyncio.to_thread(influxdb.count, "sensor", "temperature")
        assert 0 < stored_at_stop < SENT

        second = serve(2)  # the broker kept the rest in the session
        # Behind the session's backlog, a marker: once it is stored too, every message before it was
        # handled and nothing is left to arrive (InfluxDB would merge a duplicate; see test_delivery).
        marker = {"ts": T0 + SENT, "fields": {"temperature": 99, "humidity": 0.0}}
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device), password=password
        ) as client:
            await client.publish(device_topic(device, TopicKind.TELEMETRY), json.dumps(marker), qos=1)

        async def stored() -> int:
            return await asyncio.to_thread(influxdb.count, "sensor", "temperature")

        async def all_and_marker_stored() -> bool:
            return await stored() >= SENT + 1

        await wait_until(
            all_and_marker_stored,
            60,
            f"{SENT} messages and the marker in InfluxDB",
            detail=second.log_tail,
            every=0.2,
        )
        assert await stored() == SENT + 1, second.log_tail()
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()
