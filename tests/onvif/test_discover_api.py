"""``POST /api/v1/onvif/discover``: a directed WS-Discovery Probe to a simulated camera on loopback.

The simulator's responder listens on a free loopback port (``--discovery-port``), so the Probe and
its answer never leave the host; the multicast path on a named interface is the same ``discover``
that ``test_discovery_netns.py`` drives in namespaces it creates.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from device_registry.crypto import generate_key
from ioc.settings import Settings
from provisioning.onvif.settings import OnvifSettings
from tests.registry.seed import build_world
from tests.support.onvif import wait_simulator_ready
from tests.support.process import ManagedProcess, free_port

IOC = str(Path(sys.executable).parent / "ioc")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only: these tests are about the API's edges, not the database."""
    return sqlite_url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=db_url,
        secret_key=generate_key(),
        onvif=OnvifSettings(allowed_networks=["127.0.0.0/8"]),
    )


@pytest.fixture
def responder(tmp_path: Path) -> Iterator[int]:
    """Two cameras answering WS-Discovery on 127.0.0.1:PORT; yields PORT."""
    port = free_port()
    config = tmp_path / "fleet.yaml"
    config.write_text(
        yaml.safe_dump(
            [
                {"name": "Cổng chợ", "model": "DS-2CD2143", "location": "Hưng Yên"},
                {"name": "Kho Y", "model": "NVR4104", "channels": 4},
            ],
            allow_unicode=True,
        )
    )
    log = tmp_path / "sim.log"
    argv = [sys.executable, "-m", "simulators.onvif_camera", "--config", str(config)]
    argv += ["--discovery-address", "127.0.0.1", "--discovery-port", str(port)]
    sim = ManagedProcess(argv, log_path=log, ready=lambda: wait_simulator_ready(log)).start()
    try:
        yield port
    finally:
        sim.stop()


async def test_directed_probe_finds_the_cameras_for_an_engineer_only(
    api, sessions, responder, tmp_path
) -> None:
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    body = {"address": "127.0.0.1", "port": responder, "timeout_s": 1.0}

    started = time.monotonic()
    answered = await api.client.post("/api/v1/onvif/discover", json=body, headers=api.as_("engineer_a"))
    assert answered.status_code == 200, answered.text
    assert time.monotonic() - started < 5  # timeout_s bounds the wait
    found = answered.json()
    assert (found["address"], found["interface"], found["complete"]) == ("127.0.0.1", None, True)
    assert sorted(d["name"] for d in found["found"]) == ["Cổng chợ", "Kho Y"]
    assert {d["address"] for d in found["found"]} == {"127.0.0.1"}
    assert all(d["xaddrs"][0].endswith("/onvif/device_service") for d in found["found"])

    # `ioc --json discover onvif --address` prints the very model the API answered
    printed = await asyncio.to_thread(
        subprocess.run,
        [IOC, "--json", "discover", "onvif", "--address", f"127.0.0.1:{responder}", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "IOC_HOME": str(tmp_path / "cli"), "IOC_ONVIF__ALLOWED_NETWORKS": "127.0.0.0/8"},
    )
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == found

    refused = await api.client.post("/api/v1/onvif/discover", json=body, headers=api.as_("maintenance_a"))
    assert refused.status_code == 403
    anonymous = await api.client.post("/api/v1/onvif/discover", json=body)
    assert anonymous.status_code == 401


async def test_bad_discover_requests_name_the_field_and_send_nothing(api, sessions) -> None:
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    eng = api.as_("engineer_a")
    cases = [
        ({"interface": "lo", "address": "127.0.0.1"}, "interface"),  # exactly one
        ({}, "interface"),
        ({"address": "127.0.0.1", "timeout_s": 61}, "timeout_s"),
        ({"address": "cam.example"}, "address"),  # an IPv4 literal: nothing is resolved
        ({"address": "10.0.0.1"}, "address"),  # outside IOC_ONVIF__ALLOWED_NETWORKS
        ({"interface": "nosuch0"}, "interface"),
    ]
    for request, field in cases:
        answered = await api.client.post("/api/v1/onvif/discover", json=request, headers=eng)
        assert answered.status_code == 422, (request, answered.text)
        assert field in answered.text, (request, answered.text)


def test_cli_discover_refuses_what_the_allowlist_does_not_name(tmp_path) -> None:
    """Loopback is refused unless allowlisted: a clear exit 2 naming the option, not a traceback."""
    env = {**os.environ, "IOC_HOME": str(tmp_path / "cli")}
    env.pop("IOC_ONVIF__ALLOWED_NETWORKS", None)
    for args, option in ((["-i", "lo"], "--interface"), (["--address", "127.0.0.1"], "--address")):
        done = subprocess.run(
            [IOC, "--json", "discover", "onvif", *args, "--timeout", "0.2"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert json.loads(done.stderr)["error"].startswith(f"{option}: 127.0.0.1 is a loopback"), done.stderr
