"""`ioc serve` survives one of its services crashing: the crashed one is restarted with backoff, the
API keeps answering, and /api/v1/health says which service is failing and how often it restarted."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import DeviceKind, SiteKind
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_devices
from device_registry.services.sites import create_site
from ioc.migrate import upgrade
from tests.registry.seed import ADMIN
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
        # Caught between two attempts (a restarted attempt reports "running" until it fails again).
        crashed = _poll(
            base,
            lambda b: (
                _service(b, "monitors")["restarts"] >= 3 and _service(b, "monitors")["status"] == "restarting"
            ),
            headers=admin,
        )
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
        restarts = _service(healed, "monitors")["restarts"]
        # Two registry refreshes later it still runs, not restarted: each logs a device without an address.
        site = {"code": "X", "name": "Tỉnh X", "kind": "province"}
        assert httpx.post(f"{base}/api/v1/sites", json=site, headers=admin).status_code == 201
        for name in ("sw-a", "sw-b"):
            device = {"name": name, "kind": "switch", "site_code": "X"}
            made = httpx.post(f"{base}/api/v1/devices", json=device, headers=admin)
            assert made.status_code == 201, made.text
            logged = f"not monitored: device {made.json()['id']}"
            _wait_for_log(tmp_path / "serve.log", lambda text: logged in text)  # noqa: B023 - called at once
        monitors = _service(httpx.get(f"{base}/api/v1/health", headers=admin).json(), "monitors")
        assert (monitors["status"], monitors["restarts"]) == ("running", restarts), monitors
    finally:
        server.stop()  # SIGTERM, SIGKILL after 10 s
    log = (tmp_path / "serve.log").read_text()
    assert "service monitors failed" in log and "restarting in" in log
    assert server.process is not None and server.process.returncode is not None


async def _device_without_address(db_url: str, key: str) -> int:
    """A device the monitors cannot check: their next registry refresh logs it once, which shows them
    running while the API cannot start."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await create_site(session, ADMIN, SiteCreate(code="X", name="Tỉnh X", kind=SiteKind.PROVINCE))
            (device,) = await create_devices(
                session,
                ADMIN,
                SecretBox(SecretStr(key)),
                [DeviceCreate(name="sw-x", kind=DeviceKind.SWITCH, site_code="X")],
            )
            return device.id
    finally:
        await engine.dispose()


def test_an_api_port_in_use_is_retried_while_the_other_services_run(tmp_path: Path):
    """uvicorn answers a port in use with sys.exit, which used to end the whole `ioc serve`."""
    key = generate_key().get_secret_value()
    env = {
        **os.environ,
        "IOC_HOME": str(tmp_path / "home"),
        "IOC_SECRET_KEY": key,
        "IOC_LOG_LEVEL": "INFO",
        "IOC_SERVE__RESTART_INITIAL_S": "0.2",
        "IOC_SERVE__RESTART_MAX_S": "0.5",
        "IOC_MONITORS__REGISTRY_REFRESH_S": "0.3",
    }
    env.pop("IOC_MQTT_URL", None)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'home' / 'registry.db'}"
    (tmp_path / "home").mkdir(mode=0o700)
    upgrade(db_url)  # in-process: one interpreter start less than `ioc init`
    port = free_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    log_path = tmp_path / "serve.log"
    server = ManagedProcess(
        [sys.executable, "-m", "ioc", "serve", "--port", str(port), "--only", "api", "--only", "monitors"],
        log_path,
        env=env,
    )
    server.start()
    try:
        _wait_for_log(log_path, lambda text: text.count("service api failed") >= 2)
        device_id = asyncio.run(_device_without_address(db_url, key))
        # The monitors keep refreshing the registry while the API fails to bind, again and again.
        log = _wait_for_log(log_path, lambda text: f"not monitored: device {device_id}" in text)
        assert server.running
        assert f"cannot listen on 127.0.0.1:{port}" in log and "restarting in" in log
        assert "Traceback" in log  # the first failure is logged with its cause, later ones in one line
        failures = log.count("service api failed")

        holder.close()  # the port is free: the next restart binds it and the API answers
        wait_for_tcp(port, timeout=30)
        health = _poll(f"http://127.0.0.1:{port}", lambda b: b["status"] == "ok")  # anonymous: no error texts
        assert _service(health, "api")["restarts"] >= failures >= 2
        assert _service(health, "monitors") | {"next_restart_in_s": None} == {
            "name": "monitors",
            "status": "running",
            "restarts": 0,
            "last_error": None,
            "last_error_type": None,
            "next_restart_in_s": None,
        }
    finally:
        holder.close()
        server.stop()  # SIGTERM, SIGKILL after 10 s


def _wait_for_log(path: Path, until: Callable[[str], bool], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if until(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"log never matched:\n{text[-3000:]}")
