"""Run the ingest service in its own process (so tests can SIGKILL it), writing through the real
telemetry writer (its own spool folder) into a real InfluxDB.

Usage: python -m tests.mqtt.ingest_proc PORT PASSWORD DB INFLUX_URL SPOOL_DIR CLIENT_ID READY_FILE [--hang MARKER]

``--hang MARKER``: the sink touches MARKER with the batch size and never returns, so a test can SIGKILL
the ingest between receipt and acknowledgement, before anything reached the writer.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr

from device_registry.db import create_engine, session_factory
from provisioning.mqtt.url import MqttUrl
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.ingest.deadletters import DeadLetterStore
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.lastseen import LastSeenStore
from telemetry.ingest.service import IngestConfig, IngestService
from telemetry.points import Point
from telemetry.writer import TelemetryWriter
from tests.support.mosquitto import INGEST_USER
from tests.support.tsdb import INFLUX_DB


class HangAfterReceipt:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    async def write(self, points: Sequence[Point]) -> None:
        await asyncio.to_thread(self.marker.write_text, str(len(points)))
        await asyncio.Event().wait()


async def main(argv: list[str]) -> None:
    port, password, db, influx_url, spool_dir, client_id, ready = argv[:7]
    hang = argv[8] if len(argv) > 8 and argv[7] == "--hang" else None
    sessions = session_factory(create_engine(f"sqlite+aiosqlite:///{db}"))
    url = MqttUrl(host="127.0.0.1", port=int(port), username=INGEST_USER, password=SecretStr(password))
    target = InfluxTarget(url=influx_url, database=INFLUX_DB)
    async with TelemetryWriter(
        WriterConfig(spool_dir=Path(spool_dir), target=target, flush_interval=0.1, self_metrics_interval=0)
    ) as writer:
        service = IngestService(
            IngestConfig(url=url, client_id=client_id, last_seen_flush_s=0.5),
            sink=writer if hang is None else HangAfterReceipt(Path(hang)),
            dead_letters=DeadLetterStore(sessions),
            last_seen=LastSeenStore(sessions),
            directory=CredentialDirectory(sessions),
        )
        task = asyncio.create_task(service.run())
        await service.subscribed.wait()
        await asyncio.to_thread(Path(ready).write_text, "subscribed")
        await task


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
