"""`ioc serve --only ingest --workers 2`: two ingest processes share the stream, each with its own stable
session and spool; a worker SIGKILLed is restarted under the same client id and nothing is lost; the
supervisor SIGKILLed takes its workers with it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import psutil
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.spool import SPOOL_FILE
from tests.mqtt.conftest import onboard
from tests.support.mosquitto import Broker
from tests.support.process import ManagedProcess
from tests.support.tsdb import start_influxdb
from tests.support.waits import wait_until

T0 = int(time.time()) - 86_400
"""A day ago, in whole seconds: inside the window the ingest accepts whenever the suite runs."""


async def _publish(port: int, sensors: list[tuple[int, str]], start: int, count: int) -> None:
    async def one(device: int, password: str) -> None:
        async with aiomqtt.Client("127.0.0.1", port, username=str(device), password=password) as client:
            for i in range(start, start + count):
                payload = {"ts": T0 + i, "fields": {"temperature": 20 + i % 10, "humidity": 60.5}}
                await client.publish(device_topic(device, TopicKind.TELEMETRY), json.dumps(payload), qos=1)

    await asyncio.gather(*(one(device, password) for device, password in sensors))


def _spool_written(home: Path, worker: int) -> int:
    with sqlite3.connect(home / f"spool-ingest-{worker}" / SPOOL_FILE) as conn:
        row = conn.execute("SELECT value FROM counters WHERE name = 'points_written'").fetchone()
    return int(row[0]) if row else 0


async def test_two_workers_share_the_stream_and_a_killed_one_comes_back_with_its_id(
    tmp_path: Path, broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    influx = start_influxdb(tmp_path / "influxdb")
    home = tmp_path / "home"
    env = broker.serve_env(tmp_path, "ingest-w", influx.url)
    serve = None
    try:
        sensors = await onboard(sessions, 2)
        await broker.sync(sessions)

        def both_subscribed() -> None:
            broker.wait_ingest_subscribed("ingest-w-0")
            broker.wait_ingest_subscribed("ingest-w-1")

        serve = ManagedProcess(
            [sys.executable, "-m", "ioc", "serve", "--only", "ingest", "--workers", "2"],
            tmp_path / "serve.log",
            ready=both_subscribed,
            env=env,
        )
        serve.start()
        assert serve.process is not None
        workers = {
            child.environ()["IOC_INGEST_WORKER"]: child
            for child in psutil.Process(serve.process.pid).children()
        }
        assert sorted(workers) == ["0", "1"]
        await _publish(broker.port, sensors, 0, 100)
        await _wait_count(influx.count, 200, serve)
        # The broker dealt the shared subscription to both: each worker's own spool delivered a part.
        shares = [_spool_written(home, worker) for worker in (0, 1)]
        assert all(share >= 20 for share in shares) and sum(shares) >= 200, shares  # + self-metric points

        workers["1"].kill()  # SIGKILL: its share waits in its session until the supervisor brings it back
        await asyncio.to_thread(broker.wait_ingest_subscribed, "ingest-w-1", 2)  # back, same session
        await _publish(broker.port, sensors, 100, 50)
        await _wait_count(influx.count, 300, serve)
        (series,) = influx.query('SELECT count("temperature"), count("humidity") FROM "sensor"')
        assert series["values"][0][1:] == [300, 300]  # one wide point per message, both fields in it

        # SIGKILL the supervisor itself: its workers must not run on as orphans (PR_SET_PDEATHSIG).
        running = psutil.Process(serve.process.pid).children()
        assert len(running) == 2
        serve.process.kill()
        serve.process.wait()
        _, alive = psutil.wait_procs(running, timeout=20)  # SIGTERM: each drains its writer, then exits
        assert alive == [], [p.pid for p in alive]
    finally:
        if serve is not None:
            serve.stop()
        influx.process.stop()


async def _wait_count(count: Callable[[str, str], int], expected: int, serve: ManagedProcess) -> None:
    async def stored() -> bool:
        return await asyncio.to_thread(count, "sensor", "temperature") >= expected

    await wait_until(stored, 60, f"{expected} points in InfluxDB", detail=serve.log_tail, every=0.2)
    assert await asyncio.to_thread(count, "sensor", "temperature") == expected, serve.log_tail()
