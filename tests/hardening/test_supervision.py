"""`ioc serve` survives one of its services crashing: the crashed one is restarted with backoff, the
API keeps answering, and /api/v1/health says which service is failing and how often it restarted."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.process import ManagedProcess, free_port, wait_for_tcp

TABLE = "monitor_maintenance_windows"
ONLY = ("--only", "api", "--only", "monitors", "--only", "ingest")


def _poll(base: str, until: Callable[[dict[str, Any]], bool], timeout: float = 30.0, **kw: Any) -> dict:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{base}/api/v1/health", **kw).json()
        if until(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"health never matched: {body}")


def _service(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in body["services"] if s["name"] == name)


def test_a_crashing_service_is_restarted_while_the_api_keeps_answering(tmp_path: Path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "IOC_HOME": str(home),
        "IOC_SERVE__RESTART_INITIAL_S": "0.2",
        "IOC_SERVE__RESTART_MAX_S": "0.8",
        "IOC_MONITORS__REGISTRY_REFRESH_S": "0.5",
    }
    env.pop("IOC_MQTT_URL", None)
    init = subprocess.run(
        [sys.executable, "-m", "ioc", "--json", "init"], env=env, capture_output=True, text=True, check=True
    )
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['token']}"}
    # The crash: the monitors read maintenance windows when they start; without the table they fail.
    with sqlite3.connect(home / "registry.db") as db:
        db.execute(f"ALTER TABLE {TABLE} RENAME TO hidden_windows")
    port = free_port()
    server = ManagedProcess(
        [sys.executable, "-m", "ioc", "serve", "--port", str(port), *ONLY],
        tmp_path / "serve.log",
        ready=lambda: wait_for_tcp(port, timeout=60),
        env=env,
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        crashed = _poll(base, lambda b: _service(b, "monitors")["restarts"] >= 3, headers=admin)
        monitors = _service(crashed, "monitors")
        assert crashed["status"] == "degraded"
        assert monitors["status"] == "restarting", monitors
        assert monitors["last_error_type"] == "OperationalError"
        assert TABLE in monitors["last_error"]
        assert _service(crashed, "api")["status"] == "running"
        assert _service(crashed, "ingest")["status"] == "stopped"  # no IOC_MQTT_URL: nothing to do
        # Backoff is capped: after ≥3 failures the next delay is the cap, not 0.2 * 2**n.
        assert 0 < monitors["next_restart_in_s"] <= 0.8

        # The API keeps serving while the monitors crash-loop.
        devices = httpx.get(f"{base}/api/v1/devices", headers=admin)
        assert devices.status_code == 200 and devices.json()["items"] == []
        assert httpx.get(f"{base}/api/v1/me", headers=admin).status_code == 200

        # Anonymous callers see that a service fails, not the error text (which may name hosts).
        anonymous = _service(httpx.get(f"{base}/api/v1/health").json(), "monitors")
        assert anonymous["last_error"] is None and anonymous["last_error_type"] == "OperationalError"

        # Repair the cause: the next restart succeeds and stays up.
        with sqlite3.connect(home / "registry.db") as db:
            db.execute(f"ALTER TABLE hidden_windows RENAME TO {TABLE}")
        healed = _poll(base, lambda b: _service(b, "monitors")["status"] == "running", headers=admin)
        assert healed["status"] == "ok"
        time.sleep(1.5)  # a few registry refreshes later it is still running
        assert _service(httpx.get(f"{base}/api/v1/health").json(), "monitors")["status"] == "running"
    finally:
        server.stop()  # SIGTERM, SIGKILL after 10 s
    log = (tmp_path / "serve.log").read_text()
    assert "service monitors failed" in log and "restarting in" in log
    assert server.process is not None and server.process.returncode is not None
