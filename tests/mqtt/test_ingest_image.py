"""The ingest process carries only what the ingest needs: no web stack, no protocol libraries, no
migrations, no terminal UI. Each of them costs resident memory in every ingest worker for nothing
(the e2e bench's RSS target is < 100 MB with a 200k backlog).

The module list is read from the real process: ``PYTHONPROFILEIMPORTTIME`` makes Python print every
import on stderr, and the process runs until it has stored a message, so whatever the message path
imports lazily is in the list too."""

from __future__ import annotations

import asyncio
import json
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
from tests.support.process import ManagedProcess
from tests.support.waits import wait_until

HEAVY = {
    "fastapi", "starlette", "uvicorn",  # the API
    "zeep", "onvif", "lxml", "pysnmp", "pyasn1",  # the protocol clients
    "alembic", "mako",  # migrations (`ioc serve` migrates before it execs the ingest)
    "rich", "click", "typer", "pygments",  # the command line
    "apprise", "apscheduler", "jinja2", "yaml",  # alerting, scheduling, importers
    "cryptography",  # Fernet opens stored credentials; the ingest opens none (~9 MiB RSS)
}  # fmt: skip


def _imported(log: str) -> set[str]:
    """Top-level package names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in log.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def _sensor_point_spooled(home: Path) -> bool:
    """A ``sensor`` line is in the spool (no InfluxDB is configured, so it stays there); the writer's
    own self-metric points, spooled from its start, do not count."""
    spool = home / "spool" / SPOOL_FILE
    if not spool.exists():
        return False
    with sqlite3.connect(spool) as conn:
        return any(
            body.startswith(b"sensor,") or b"\nsensor," in body
            for (body,) in conn.execute("SELECT body FROM pending")
        )


async def test_the_ingest_process_imports_none_of_the_platforms_heavy_libraries(
    tmp_path: Path, broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (sensor,) = await onboard(sessions, 1)
    await broker.sync(sessions)
    home = tmp_path / "home"
    process = ManagedProcess(
        [
            sys.executable,
            "-m",
            "ioc.ingest_workers",
            "--workers",
            "1",
        ],  # what `ioc serve --only ingest` execs
        tmp_path / "ingest.log",
        env={**broker.serve_env(tmp_path, "img"), "PYTHONPROFILEIMPORTTIME": "1"},
    )
    process.start()
    try:
        device, password = sensor
        await asyncio.to_thread(broker.wait_ingest_subscribed, "img")  # one worker: the id as given
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device), password=password
        ) as client:
            payload = {"ts": int(time.time()) - 60, "fields": {"temperature": 21.5}}
            await client.publish(device_topic(device, TopicKind.TELEMETRY), json.dumps(payload), qos=1)
        await wait_until(
            lambda: _sensor_point_spooled(home),
            30,
            "the sensor point in the ingest's spool",
            detail=process.log_tail,
        )
    finally:
        process.stop()
    imported = _imported((tmp_path / "ingest.log").read_text(errors="replace"))
    assert {"aiomqtt", "sqlalchemy", "telemetry"} <= imported  # the log is the ingest's own imports
    assert imported & HEAVY == set()
