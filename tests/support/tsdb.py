"""Real InfluxDB 1.x and VictoriaMetrics servers on free loopback ports, plus read-back helpers.

Shared by the tests (fixtures in ``tests/support/fixtures.py``) and the benchmark, so both measure against the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ioc.demo.servers import influx_process, wait_http_ok
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

INFLUX_DB = "ioc_test"


@dataclass
class InfluxServer:
    """InfluxDB 1.x (Debian ``influxdb``): serves ``/write`` and ``/query``, not ``/api/v2/write``."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, q: str, db: str = INFLUX_DB) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.url}/query", params={"db": db, "epoch": "ns"}, data={"q": q}, timeout=30.0
        )
        response.raise_for_status()
        result = response.json()["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        return list(result.get("series", []))

    def create_database(self, name: str = INFLUX_DB) -> None:
        self.query(f'CREATE DATABASE "{name}"', db="")

    def count(self, measurement: str, field: str = "value", db: str = INFLUX_DB) -> int:
        series = self.query(f'SELECT count("{field}") FROM "{measurement}"', db=db)
        return int(series[0]["values"][0][1]) if series else 0


def start_influxdb(tmp: Path) -> InfluxServer:
    require_binary("influxd", "influxdb")
    port, rpc_port = free_port(), free_port()
    process = influx_process(tmp, port, rpc_port).start()
    server = InfluxServer(process, port)
    server.create_database()
    return server


@dataclass
class VictoriaServer:
    """VictoriaMetrics: accepts ``/write`` and ``/api/v2/write``; read back with ``/api/v1/export``."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def export(self, match: str) -> list[dict[str, Any]]:
        httpx.get(f"{self.url}/internal/force_flush", timeout=30.0).raise_for_status()
        response = httpx.post(f"{self.url}/api/v1/export", data={"match[]": match}, timeout=60.0)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def distinct_samples(self, metric: str) -> set[tuple[str, int]]:
        """(series, timestamp) pairs: the identity a duplicate delivery would overwrite."""
        samples: set[tuple[str, int]] = set()
        for series in self.export(f'{{__name__="{metric}"}}'):
            key = json.dumps(series["metric"], sort_keys=True)
            samples.update((key, ts) for ts in series["timestamps"])
        return samples


def start_victoria(tmp: Path) -> VictoriaServer:
    binary = require_binary("victoria-metrics", "victoria-metrics")
    port = free_port()
    (tmp / "vmdata").mkdir(parents=True, exist_ok=True)
    argv = [
        binary,
        f"-storageDataPath={tmp / 'vmdata'}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-retentionPeriod=100y",
        "-search.disableCache",
        "-search.latencyOffset=0s",
        "-loggerLevel=ERROR",
    ]
    url = f"http://127.0.0.1:{port}/health"

    def ready() -> None:
        wait_for_tcp(port)
        wait_http_ok(url)

    process = ManagedProcess(argv, tmp / "victoria.log", ready=ready)
    process.start()
    return VictoriaServer(process, port)
