"""The engineer's commands end to end: `ioc probe onvif`, `ioc onboard onvif` against a simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.onvif import wait_simulator_ready
from tests.support.process import ManagedProcess

IOC = str(Path(sys.executable).with_name("ioc"))


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    folder = tmp_path_factory.mktemp("onvif-sim")
    config = folder / "fleet.yaml"
    config.write_text(
        yaml.safe_dump(
            [
                {"manufacturer": "KBVision", "model": "KX-2011N", "serial": "KB-1", "clock_offset_s": 5400},
                {"media1_only": True, "no_snapshot": True, "serial": "OLD-1"},
                {"serial": "NAT-1", "reported_host": "127.87.0.66", "reported_port": 80},
            ]
        )
    )
    log = folder / "sim.log"

    process = ManagedProcess(
        [sys.executable, "-m", "simulators.onvif_camera", "--config", str(config)],
        log_path=log,
        ready=lambda: wait_simulator_ready(log),
    ).start()
    try:
        line = next(x for x in log.read_text().splitlines() if x.startswith("READY"))
        yield [int(p) for p in line.split()[1:]]
    finally:
        process.stop()


def ioc(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    # The simulated cameras listen on loopback, which probes refuse unless allowlisted.
    env = {
        **os.environ,
        "IOC_HOME": str(home),
        "COLUMNS": "250",
        "IOC_ONVIF__ALLOWED_NETWORKS": "127.0.0.0/8",
        **extra_env,
    }
    env.pop("IOC_DATABASE_URL", None)
    return subprocess.run([IOC, *args], capture_output=True, text=True, timeout=60, env=env)


def test_probe_json(simulator, tmp_path):
    done = ioc(
        tmp_path,
        "--json",
        "probe",
        "onvif",
        f"127.0.0.1:{simulator[0]}",
        "--user",
        "admin",
        "--password",
        "admin123",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["manufacturer"], data["model"], data["serial"]) == ("KBVision", "KX-2011N", "KB-1")
    assert data["clock_offset_s"] == pytest.approx(5400, abs=2)
    assert data["services"] == ["device", "media", "media2"]
    assert set(data["profiles"][0]) >= {
        "token",
        "name",
        "encoding",
        "resolution",
        "fps",
        "stream_uri",
        "snapshot_uri",
    }


def test_probe_human_output_names_missing_services(simulator, tmp_path):
    done = ioc(
        tmp_path, "probe", "onvif", f"127.0.0.1:{simulator[1]}", "--user", "admin", "--password", "admin123"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "MainStream" in done.stdout
    assert "note: device offers no Media2 service" in done.stdout
    assert "note: GetSnapshotUri not supported: device offers no snapshot URI" in done.stdout


def test_wrong_password_is_one_clear_line(simulator, tmp_path):
    done = ioc(
        tmp_path,
        "--json",
        "probe",
        "onvif",
        f"127.0.0.1:{simulator[0]}",
        "--user",
        "admin",
        "--password",
        "s3cr3t-guess",
    )
    assert done.returncode == 5  # ioc.cli.output.DEVICE_EXIT_CODES: a refused login
    error = json.loads(done.stderr)
    assert error["error"].endswith("authentication failed")
    assert error["details"] == {"kind": "auth_failed", "retryable": False, "field": "password"}
    assert "s3cr3t-guess" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_camera_behind_nat_is_pinned_unless_the_engineer_keeps_its_addresses(simulator, tmp_path):
    args = ("--json", "probe", "onvif", f"127.0.0.1:{simulator[2]}", "-u", "admin", "-p", "admin123")
    pinned = ioc(tmp_path, *args)
    assert pinned.returncode == 0, pinned.stderr
    snapshot = json.loads(pinned.stdout)["profiles"][0]["snapshot_uri"]
    assert snapshot == f"http://127.0.0.1:{simulator[2]}/onvif/snapshot/MainStream.jpg"
    kept = ioc(tmp_path, *args, "--keep-reported-addresses", "--timeout", "2")
    assert kept.returncode == 3  # unreachable
    assert json.loads(kept.stderr)["details"]["kind"] == "unreachable"


def test_bad_setting_names_the_variable(tmp_path):
    done = ioc(
        tmp_path, "--json", "probe", "onvif", "127.0.0.1", "-u", "a", "-p", "b", IOC_ONVIF__CALL_TIMEOUT_S="0"
    )
    assert done.returncode == 2
    assert json.loads(done.stderr)["error"].startswith(
        "settings: onvif.call_timeout_s: Input should be greater than 0"
    )


def test_bad_port_names_the_argument(tmp_path):
    done = ioc(tmp_path, "--json", "probe", "onvif", "127.0.0.1:99999", "--user", "a", "--password", "b")
    assert done.returncode == 2
    assert json.loads(done.stderr)["error"] == "HOST[:PORT]: port must be 1-65535, got '99999'"


def test_onboard_then_list(simulator, tmp_path):
    assert ioc(tmp_path, "--json", "init").returncode == 0
    site = ioc(tmp_path, "--json", "sites", "add", "HY", "Hưng Yên", "--kind", "province")
    assert site.returncode == 0, site.stderr
    done = ioc(
        tmp_path,
        "--json",
        "onboard",
        "onvif",
        f"127.0.0.1:{simulator[1]}",
        "--site",
        "HY",
        "--user",
        "admin",
        "--password",
        "admin123",
        "--set-ntp",
        "ntp.hungyen.gov.vn",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "camera" and result["ntp_server"] == "ntp.hungyen.gov.vn"
    assert "GetSnapshotUri not supported: device offers no snapshot URI" in result["notes"]
    listed = json.loads(ioc(tmp_path, "--json", "devices", "list").stdout)
    assert [d["serial"] for d in listed["items"]] == ["OLD-1"]

    refused = ioc(
        tmp_path,
        "--json",
        "onboard",
        "onvif",
        f"127.0.0.1:{simulator[0]}",
        "--site",
        "HY",
        "--user",
        "admin",
        "--password",
        "wrong",
    )
    assert refused.returncode == 5 and json.loads(refused.stderr)["error"].endswith("authentication failed")
    assert json.loads(ioc(tmp_path, "--json", "devices", "list").stdout)["total"] == 1
