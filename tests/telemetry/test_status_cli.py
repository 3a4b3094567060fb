"""An operator configures the writer with IOC_INFLUX_* and reads its state with ``ioc telemetry``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ioc.runtime import writer_config as settings_writer_config
from ioc.settings import Settings
from telemetry.points import Point
from telemetry.writer import TelemetryWriter
from tests.support.tsdb import InfluxServer
from tests.telemetry.helpers import BASE_NS, numbered_points, v1_target, wait_drained, writer_config

ROOT = Path(__file__).resolve().parents[2]


def ioc(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IOC_HOME": str(home)}
    argv = [sys.executable, "-c", "from ioc.cli.main import run; run()", *args]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_documented_env_names_configure_the_writer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "IOC_HOME": str(tmp_path),
        "IOC_INFLUX_URL": "http://127.0.0.1:8086",
        "IOC_INFLUX_API": "v2",
        "IOC_INFLUX_BUCKET": "telemetry",
        "IOC_INFLUX_ORG": "so-tttt-hue",
        "IOC_INFLUX_TOKEN": "tok-secret-123",
        "IOC_INFLUX_USERNAME": "ioc",
        "IOC_INFLUX_PASSWORD": "pw-secret-456",
        "IOC_INFLUX_DATABASE": "ioc",
        "IOC_INFLUX_RETENTION_POLICY": "thirty_days",
        "IOC_INFLUX_BATCH_SIZE": "2500",
        "IOC_INFLUX_FLUSH_INTERVAL": "2.5",
        "IOC_TELEMETRY_SPOOL_MAX_BYTES": "1048576",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = settings_writer_config(Settings())
    assert config.target is not None
    assert config.spool_dir == tmp_path / "spool"
    assert (config.batch_size, config.flush_interval, config.spool_max_bytes) == (2500, 2.5, 1048576)
    assert config.target.endpoint() == (
        "http://127.0.0.1:8086/api/v2/write",
        {"bucket": "telemetry", "precision": "ns", "org": "so-tttt-hue"},
    )
    assert config.target.headers()["Authorization"] == "Token tok-secret-123"
    assert config.target.retention_policy == "thirty_days" and config.target.database == "ioc"
    assert "secret" not in repr(config)

    monkeypatch.setenv("IOC_INFLUX_API", "v3")
    with pytest.raises(ValueError, match="influx_api"):
        Settings()
    monkeypatch.setenv("IOC_INFLUX_API", "v1")
    monkeypatch.delenv("IOC_INFLUX_DATABASE")
    with pytest.raises(ValueError, match="IOC_INFLUX_DATABASE"):
        settings_writer_config(Settings())


async def test_status_and_quarantine_commands_read_the_spool(tmp_path: Path, influxdb: InfluxServer) -> None:
    spool = tmp_path / "spool"
    async with TelemetryWriter(writer_config(spool, v1_target(influxdb.url))) as writer:
        await writer.write(numbered_points(0, 100, measurement="st"))
        await wait_drained(writer)
        await writer.write([Point("st", {"value": "not a float"}, BASE_NS + 5, {"device": "d5"})])
        await wait_drained(writer)
    async with TelemetryWriter(writer_config(spool, None)) as offline:
        await offline.write(numbered_points(100, 130, measurement="st"))

    done = ioc(tmp_path, "--json", "telemetry", "status")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["pending_points"] == 30 and status["quarantined_points"] == 1
    assert status["points_written"] == 100 and status["points_quarantined"] == 1
    assert status["points_dropped"] == 0 and status["oldest_unsent_age_s"] >= 0
    assert status["pending_bytes"] > 0 and status["file_bytes"] > 0

    done = ioc(tmp_path, "--json", "telemetry", "quarantine")
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)
    assert item["status"] == 400 and "field type conflict" in item["reason"]
    assert item["line"] == f'st,device=d5 value="not a float" {BASE_NS + 5}'

    human = ioc(tmp_path, "telemetry", "status")
    assert human.returncode == 0 and "pending_points" in human.stdout

    missing = ioc(tmp_path / "elsewhere", "--json", "telemetry", "status")
    assert missing.returncode == 1
    assert "no telemetry spool" in json.loads(missing.stderr)["error"]
