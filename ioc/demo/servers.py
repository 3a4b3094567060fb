"""The real servers the demo runs beside `ioc serve`: InfluxDB 1.x (Debian ``influxd``) and Mosquitto.

The InfluxDB config is shared with the tests and benches (``tests/telemetry/servers.py``), so the
demo runs the server the zero-loss tests run.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from simulators.process import ManagedProcess, find_binary, wait_for_tcp


def influx_config(folder: Path, port: int, rpc_port: int) -> Path:
    """Write ``influxdb.conf`` for a loopback server keeping everything under ``folder``."""
    for sub in ("meta", "data", "wal"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    config = folder / "influxdb.conf"
    config.write_text(
        f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{folder / "meta"}"
[data]
  dir = "{folder / "data"}"
  wal-dir = "{folder / "wal"}"
  wal-fsync-delay = "0s"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  auth-enabled = false
  log-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"""
    )
    return config


def wait_http_ok(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code < 300:
                return
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready within {timeout}s: {last}")


def influx_process(folder: Path, port: int, rpc_port: int, *, log_path: Path | None = None) -> ManagedProcess:
    """An unstarted ``influxd`` (ready when ``/ping`` answers)."""
    binary = find_binary("influxd", "influxdb")
    config = influx_config(folder, port, rpc_port)

    def ready() -> None:
        wait_for_tcp(port, timeout=60)
        wait_http_ok(f"http://127.0.0.1:{port}/ping", timeout=60)

    return ManagedProcess(
        [binary, "-config", str(config)],
        log_path or folder / "influxd.log",
        ready=ready,
        die_with_parent=True,
    )


def create_database(port: int, name: str) -> None:
    response = httpx.post(
        f"http://127.0.0.1:{port}/query", data={"q": f'CREATE DATABASE "{name}"'}, timeout=30
    )
    response.raise_for_status()
