"""`ioc status`, `ioc outages list` and `ioc check` as an engineer types them, on the district outage."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from tests.monitors.conftest import Listener

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def ioc(settings, *args: str) -> subprocess.CompletedProcess[str]:
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "IOC_HOME": str(settings.home),
        "IOC_DATABASE_URL": settings.effective_database_url,
        "IOC_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ioc", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_status_outages_and_check_from_the_terminal(settings, world):
    as_json = await ioc(settings, "--json", "status", "--site", "P")
    assert as_json.returncode == 0, as_json.stderr
    view = json.loads(as_json.stdout)
    assert {k: v for k, v in view["counts"].items() if v} == {
        "down": 1,
        "unreachable": 3,
        "up": 2,
        "maintenance": 1,
        "total": 7,
    }
    assert {c["site"]["code"] for c in view["children"]} == {"D1", "D2"}
    assert {c["site"]["code"] for c in view["communes"]} == {"A", "A2", "B"}

    tree = await ioc(settings, "status", "--site", "P")
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert "Tỉnh Thử Nghiệm (P)" in lines[0] and "down 1" in lines[0]
    district = next(i for i, line in enumerate(lines) if "Huyện Vũ Thư (D1)" in line)
    assert "Xã Hồng Lý (A)" in lines[district + 1] and "unreachable 2" in lines[district + 1]
    assert "\x1b[" not in tree.stdout, "no colour codes when stdout is not a terminal"

    outages = await ioc(settings, "--json", "outages", "list")
    assert outages.returncode == 0, outages.stderr
    [outage] = json.loads(outages.stdout)
    assert outage["device_name"] == "SW-VUTHU-CORE" and outage["alert_id"] == world.alert_id
    assert sorted(a["name"] for a in outage["affected"]) == [
        "CAM-HONGLY-01",
        "CAM-HONGLY-02",
        "CAM-SONGAN-01",
    ]

    # `ioc check` runs the checks the monitors choose for the device: a camera without ONVIF gets ICMP
    # (loopback answers) and TCP to its port (closed: the world cut its listener).
    down = await ioc(settings, "--json", "check", "CAM-HONGLY-01")
    assert down.returncode == 3, down.stderr
    icmp, tcp = json.loads(down.stdout)
    assert (icmp["check"], icmp["ok"]) == ("icmp", True)
    assert (tcp["ok"], tcp["error_kind"]) == (False, "unreachable") and "refused" in tcp["reason"]

    listener = Listener(world.ports["CAM-DONGCAC-01"])
    await listener.restore()
    try:
        up = await ioc(settings, "check", str(world.devices["CAM-DONGCAC-01"]))
    finally:
        await listener.cut()
    assert up.returncode == 0, up.stderr
    assert [line.split()[:2] for line in up.stdout.splitlines()] == [
        ["OK", "icmp"],
        ["OK", f"tcp:{world.ports['CAM-DONGCAC-01']}"],
    ]

    missing = await ioc(settings, "check", "KHONG-CO")
    assert missing.returncode != 0 and "KHONG-CO" in missing.stderr and missing.stdout == ""
