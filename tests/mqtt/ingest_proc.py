"""Run the ingest service in its own process (so tests can SIGKILL it) with a file sink.

Usage: python -m tests.mqtt.ingest_proc PORT PASSWORD DB SINK CLIENT_ID READY_FILE [--hang MARKER]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic import SecretStr

from device_registry.db import create_engine, session_factory
from provisioning.mqtt.url import MqttUrl
from telemetry.ingest.deadletters import DeadLetterStore
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.lastseen import LastSeenStore
from telemetry.ingest.service import IngestConfig, IngestService
from tests.mqtt.sinks import FileSink
from tests.support.mosquitto import INGEST_USER


async def main(argv: list[str]) -> None:
    port, password, db, sink_path, client_id, ready = argv[:6]
    hang = len(argv) > 7 and argv[6] == "--hang"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    sessions = session_factory(engine)
    url = MqttUrl(host="127.0.0.1", port=int(port), username=INGEST_USER, password=SecretStr(password))
    service = IngestService(
        IngestConfig(url=url, client_id=client_id, last_seen_flush_s=0.5),
        sink=FileSink(
            Path(sink_path), hang_after_receipt=hang, received_marker=Path(argv[7]) if hang else None
        ),
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
