"""Done when: a sensor onboarded with the CLI publishes with its credentials and its values reach
InfluxDB through `ioc serve --only ingest` and the telemetry writer; a file import reaches it too."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import time
from pathlib import Path

import aiomqtt

from provisioning.mqtt.topics import TopicKind, device_topic
from tests.mqtt.test_cli import ioc
from tests.support.mosquitto import log_subscriptions, wait_ingest_subscribed
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp
from tests.support.tsdb import INFLUX_DB, start_influxdb
from tests.support.waits import wait_until

T0 = int(time.time()) - 86_400
"""A day ago, in whole seconds: inside the window the ingest accepts whenever the suite runs."""


async def test_onboarded_sensor_values_reach_influxdb(tmp_path: Path) -> None:
    mosquitto = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    influx = start_influxdb(tmp_path / "influxdb")
    port = free_port()
    env = {
        **os.environ,
        "IOC_HOME": str(tmp_path / "home"),
        "IOC_MQTT_URL": f"mqtt://ioc-ingest:platform-pass@127.0.0.1:{port}?client_id=ingest-e2e",
        "IOC_INFLUX_URL": influx.url,
        "IOC_INFLUX_DATABASE": INFLUX_DB,
        "IOC_INFLUX_FLUSH_INTERVAL": "0.2",
    }
    broker = serve = None
    try:
        influx.create_database()
        assert ioc(env, "init").returncode == 0
        assert ioc(env, "sites", "add", "HL", "Xã Hồng Lý", "--kind", "commune").returncode == 0
        run_as = ["--run-as", getpass.getuser()] if os.geteuid() == 0 else []
        config = json.loads(ioc(env, "mqtt", "broker-config", *run_as).stdout)["config"]
        log_subscriptions(Path(config))
        broker_log = tmp_path / "broker.log"
        broker = ManagedProcess([mosquitto, "-c", config], broker_log, ready=lambda: wait_for_tcp(port))
        broker.start()
        sensor = json.loads(ioc(env, "onboard", "mqtt", "water-level-hl-1", "--site", "HL").stdout)
        device = sensor["device_id"]

        serve = ManagedProcess(
            [sys.executable, "-m", "ioc", "serve", "--only", "ingest"],
            tmp_path / "serve.log",
            ready=lambda: wait_ingest_subscribed(broker_log, "ingest-e2e"),
            env=env,
        )
        serve.start()
        urn = f"urn:dev:ioc:{device}:"
        wide = [{"bn": urn, "bt": T0, "n": "level", "u": "m", "v": 1.25}, {"n": "rain", "u": "mm", "v": 3}]
        clash = [
            {"bn": urn, "bt": T0 + 1, "n": "level", "u": "m", "v": 1.5},
            {"n": "level", "u": "cm", "v": 150},
        ]
        async with aiomqtt.Client(
            "127.0.0.1", port, username=str(device), password=sensor["one_time_password"]
        ) as client:
            for pack in (wide, clash):
                await client.publish(device_topic(device, TopicKind.SENML), json.dumps(pack), qos=1)
        backfill = tmp_path / "logger.jsonl"
        backfill.write_text(json.dumps({"ts": T0 - 60, "fields": {"level": 1.0}}) + "\n")
        imported = ioc(env, "telemetry", "import", str(backfill), "--device", str(device), "--format", "json")
        assert imported.returncode == 0, imported.stderr
        assert json.loads(imported.stdout)["pending_delivery"] == 0

        # The two queries docs/mqtt.md gives for the wide and the narrow shape.
        wide_query = f'SELECT "level", "rain", "unit_level" FROM "sensor" WHERE "device_id" = \'{device}\''
        narrow_query = (
            f'SELECT "v", "unit" FROM "sensor" WHERE "device_id" = \'{device}\' AND "name" = \'level\''
        )
        rows: list[list[object]] = []
        narrow: list[list[object]] = []

        async def both_shapes_stored() -> bool:
            nonlocal rows, narrow
            series = await asyncio.to_thread(influx.query, wide_query)
            rows = series[0]["values"] if series else []
            series = await asyncio.to_thread(influx.query, narrow_query)
            narrow = series[0]["values"] if series else []
            return len(rows) >= 2 and len(narrow) >= 2

        await wait_until(
            both_shapes_stored, 30, "2 wide and 2 narrow rows in InfluxDB", detail=serve.log_tail, every=0.2
        )
        assert rows == [[(T0 - 60) * 10**9, 1.0, None, None], [T0 * 10**9, 1.25, 3.0, "m"]], serve.log_tail()
        assert sorted(narrow, key=lambda row: str(row[2])) == [
            [(T0 + 1) * 10**9, 150.0, "cm"],
            [(T0 + 1) * 10**9, 1.5, "m"],
        ]
    finally:
        for process in (serve, broker):
            if process is not None:
                process.stop()
        influx.process.stop()
