"""`ioc serve` as operations run it: one process, the API answering, the telemetry writer running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.process import ManagedProcess, free_port, wait_for_tcp


def test_serve_runs_the_api_and_the_telemetry_writer(tmp_path: Path):
    env = {**os.environ, "IOC_HOME": str(tmp_path / "home")}
    init = subprocess.run(
        [sys.executable, "-m", "ioc", "--json", "init"], env=env, capture_output=True, text=True, check=True
    )
    token = json.loads(init.stdout)["token"]
    port = free_port()
    server = ManagedProcess(
        [sys.executable, "-m", "ioc", "serve", "--port", str(port)],
        tmp_path / "serve.log",
        ready=lambda: wait_for_tcp(port, timeout=60),
        env=env,
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/health").json()["status"] == "ok"
        assert httpx.get(f"{base}/metrics").status_code == 401
        metrics = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert (
            metrics.status_code == 200
            and "ioc_telemetry_points_written_total" in metrics.text
            and "ioc_telemetry_spool_points" in metrics.text
        )
        deadline = time.monotonic() + 20
        while (
            not (tmp_path / "home" / "spool" / "telemetry.sqlite3").exists() and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert (tmp_path / "home" / "spool" / "telemetry.sqlite3").exists()
    finally:
        server.stop()
    assert server.process is not None and server.process.returncode is not None
    unknown = subprocess.run(
        [sys.executable, "-m", "ioc", "serve", "--only", "nope"], env=env, capture_output=True, text=True
    )
    assert unknown.returncode != 0 and "nope" in unknown.stderr
