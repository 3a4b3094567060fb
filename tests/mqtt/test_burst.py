"""A burst faster than the ingest can store: it reads no further ahead than ``max_waiting`` and stores
everything, into a real InfluxDB through the real writer, from a real Mosquitto.

The ``e2e`` bench stalled on this (200 000 messages, 200 sensors): Mosquitto 2.0.11 does not hold a
subscriber that acknowledges to ``max_inflight_messages``, so the broker pushed the whole burst at the
ingest, which read it all into memory before storing any of it (provisioning/mqtt/client.py,
point 4). A disk slower than the publishers stands in for the loaded machine of the bench.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.ingest.deadletters import DeadLetterStore
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.lastseen import LastSeenStore
from telemetry.ingest.service import IngestConfig, IngestService
from telemetry.points import Point
from telemetry.writer import TelemetryWriter
from tests.mqtt.conftest import onboard
from tests.support.mosquitto import Broker
from tests.support.publishers import publish_round_robin
from tests.support.tsdb import INFLUX_DB, start_influxdb

MESSAGES = 5000
SENSORS = 4


class SlowDisk:
    """The real writer behind a disk that takes ``delay`` per write: the ingest stores at most
    ``max_batch / delay`` messages a second, slower than the publishers send."""

    def __init__(self, writer: TelemetryWriter, delay: float) -> None:
        self._writer = writer
        self._delay = delay

    async def write(self, points: Sequence[Point]) -> None:
        await asyncio.sleep(self._delay)
        await self._writer.write(points)


def publish_burst(port: int, sensors: list[tuple[int, str]], count: int) -> None:
    """``count`` QoS 1 messages at full speed, each with its own timestamp (InfluxDB keeps one point
    per series and time)."""
    t0 = time.time() - 3600

    def message(i: int, device_id: int) -> tuple[str, str]:
        payload = json.dumps({"ts": round(t0 + i / 1000, 3), "fields": {"seq": i}})
        return device_topic(device_id, TopicKind.TELEMETRY), payload

    publish_round_robin(port, sensors, count, message, client_prefix="burst", timeout=60)


async def test_a_burst_faster_than_the_disk_is_read_only_max_waiting_ahead_and_all_stored(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    sensors = await onboard(sessions, SENSORS)
    await broker.sync(sessions)
    influx = start_influxdb(tmp_path / "influxdb")
    target = InfluxTarget(url=influx.url, api="v1", database=INFLUX_DB)
    config = IngestConfig(url=broker.ingest_url, client_id="ingest-burst", max_batch=50)
    try:
        async with TelemetryWriter(
            WriterConfig(spool_dir=tmp_path / "spool", target=target, flush_interval=0.2)
        ) as writer:
            service = IngestService(
                config,
                sink=SlowDisk(writer, delay=0.04),
                dead_letters=DeadLetterStore(sessions),
                last_seen=LastSeenStore(sessions),
                directory=CredentialDirectory(sessions),
            )
            task = asyncio.create_task(service.run())
            try:
                async with asyncio.timeout(10):
                    await service.subscribed.wait()
                await asyncio.to_thread(publish_burst, broker.port, sensors, MESSAGES)
                deadline = time.monotonic() + 30
                while service.stats.points < MESSAGES:
                    assert time.monotonic() < deadline, f"stored {service.stats.points} of {MESSAGES}"
                    await asyncio.sleep(0.1)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            peak = service.peak_waiting
        # Without the bound the broker kept sending far past its window of 1000 un-acked messages
        # (about 4600 waited here), whatever the ingest's pace.
        assert peak <= config.max_waiting, f"{peak} messages were read ahead of the disk"
        assert peak == config.max_waiting, "the burst never outran the disk: this run proved nothing"
        assert service.stats.received == MESSAGES
        assert await asyncio.to_thread(influx.count, "sensor", "seq") == MESSAGES
    finally:
        influx.process.stop()
