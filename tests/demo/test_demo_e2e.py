"""End to end: `ioc demo --size small` as a user runs it, in a fresh IOC_HOME, for about three minutes.

Everything is real: Mosquitto, InfluxDB 1.x (Debian influxd), the aiosmtpd mailbox, snmpsim with
snmpsim-data walks, the ONVIF simulator with GStreamer RTSP streams, MQTT sensors and `ioc serve`.
The faults are asked for the way a second shell would (`ioc demo fault …`) instead of waiting for
the timeline: the sensor flap first, the six others together. InfluxDB is SIGKILLed by the demo's
influx-kill fault; the demo itself gets SIGTERM, then runs again in the same IOC_HOME.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest

T = TypeVar("T")
DISTRICT = "vu-thu"
DISTRICT_MAILBOX = "vu-thu@demo.ioc.local"
SENSOR_INTERVAL_S = 10
DRIFTING_CAMERA = "cam-thai-binh-bo-xuyen"  # the demo's first camera: clock-drift's default target
STREAMLESS_CAMERA = "cam-thai-binh-de-tham"  # the one camera on the RTSP server stream-down stops
WRAPPING_SWITCH = "sw-quynh-phu-an-khe"  # the 32-bit switch counter-wrap drives across 2^32


def wait_for(what: str, probe: Callable[[], T | None], within_s: float, proc: subprocess.Popen[bytes]) -> T:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}) while waiting for {what}")
        value = probe()
        if value:
            return value
        time.sleep(1.0)
    raise AssertionError(f"{what}: not within {within_s:.0f} s")


class Demo:
    def __init__(self, home: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.home = home
        self.proc = proc
        self.log = log

    @property
    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "demo" / "state.json").read_text()))

    def ioc(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "IOC_HOME": str(self.home)}
        return subprocess.run(
            [sys.executable, "-m", "ioc", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ioc_at_once(self, faults: list[tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
        """``ioc demo fault …`` from one shell per fault, all started together."""
        env = {**os.environ, "IOC_HOME": str(self.home)}
        shells = [
            subprocess.Popen(
                [sys.executable, "-m", "ioc", "demo", "fault", *fault],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for fault in faults
        ]
        done = []
        for shell in shells:
            out, err = shell.communicate(timeout=60)
            done.append(subprocess.CompletedProcess(shell.args, shell.returncode, out, err))
        return done

    def influx(self, query: str) -> list[dict[str, Any]]:
        port = self.state["ports"]["influx"]
        response = httpx.post(
            f"http://127.0.0.1:{port}/query", data={"q": query, "db": "ioc", "epoch": "s"}, timeout=10
        )
        response.raise_for_status()
        return list(response.json()["results"][0].get("series", []))

    def device_ids(self) -> dict[str, int]:
        api = f"http://127.0.0.1:{self.state['ports']['api']}/api/v1/devices"
        headers = {"Authorization": f"Bearer {self.state['admin_token']}"}
        response = httpx.get(api, params={"limit": 1000}, headers=headers, timeout=10)
        response.raise_for_status()
        return {d["name"]: d["id"] for d in response.json()["items"]}

    def series(self, measurement: str, device_id: int, since_s: float = 0) -> list[dict[str, Any]]:
        """Points of one device, whichever tag names it (``device_id`` or ``device``); every field."""
        since = f" AND time >= {int(since_s)}s" if since_s else ""
        for tag in ("device_id", "device"):
            found = self.influx(f'SELECT * FROM "{measurement}" WHERE "{tag}" = \'{device_id}\'{since}')
            if found:
                return found
        return []

    def mails(self) -> list[EmailMessage]:
        folder = self.home / "demo" / "mail"
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))
        ]


def launch(home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env["IOC_HOME"] = str(home)
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ioc", "demo", "--size", "small", "--no-timeline"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def demo(tmp_path: Path):
    home = tmp_path / "home"
    log = tmp_path / "demo.log"
    proc = launch(home, log)
    running = Demo(home, proc, log)
    try:
        wait_for("the demo's banner", lambda: "IOC demo is running" in log.read_text(), 240, proc)
        yield running
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        print(log.read_text()[-3000:])


def test_small_demo_lives_pages_the_district_team_keeps_every_point_and_stops_clean(demo: Demo) -> None:
    ids = demo.device_ids()
    assert len(ids) >= 55
    # A sensor away from Vũ Thư starts flapping at once: FLAPPING takes two of its ~60 s periods.
    flappy = next(name for name in ids if name.startswith("sensor-hung-ha-"))
    flap_at = time.time()
    flap = demo.ioc("demo", "fault", "sensor-flap", "--target", flappy, "--duration", "300")
    assert flap.returncode == 0, flap.stderr
    supervisor = psutil.Process(demo.proc.pid)
    started = {p.pid for p in supervisor.children(recursive=True)}
    recorded = json.loads((demo.home / "demo" / "pids.json").read_text())["children"]
    assert set(recorded.values()) <= started | {supervisor.pid}
    assert {"ioc-serve", "influxdb", "mosquitto", "mailbox", "cameras", "sensors", "snmpsim-vu-thu"} <= set(
        recorded
    )

    # Points from all three protocols reach InfluxDB for the devices onboarded over them.
    switch, camera, nvr = ids[f"sw-{DISTRICT}"], ids["cam-thai-binh-bo-xuyen"], ids[f"nvr-{DISTRICT}"]
    sensor_name = next(name for name in ids if name.startswith("sensor-thai-binh-"))
    sensor = ids[sensor_name]
    for measurement, device in (
        ("snmp_interface", switch),
        ("snmp_interface", ids["core-ioc-thai-binh"]),
        ("camera_health", camera),
        ("camera_health", nvr),
        ("sensor", sensor),
    ):
        wait_for(
            f"{measurement} points of device {device}",
            partial(demo.series, measurement, device),
            90,
            demo.proc,
        )
    pages = [str(m["Subject"]) for m in demo.mails()]
    assert [s for s in pages if flappy not in s] == []  # a healthy start pages nobody

    # Six faults at once, from second shells. The district's uplink is cut and InfluxDB SIGKILLed;
    # the four others hit devices away from Vũ Thư and from the sensor whose series is kept.
    broken = next(name for name in ids if name.startswith("sensor-dong-hung-"))
    fault_at = time.time()
    asked = demo.ioc_at_once(
        [
            ("district-uplink", "--target", DISTRICT, "--duration", "30"),
            ("influx-kill", "--duration", "15"),
            ("clock-drift", "--duration", "60"),
            ("stream-down", "--duration", "40"),
            ("counter-wrap", "--duration", "20"),
            ("malformed", "--target", broken),
        ]
    )
    assert [a.returncode for a in asked] == [0] * 6, [a.stderr for a in asked]

    def recovered() -> list[EmailMessage] | None:
        mails = [m for m in demo.mails() if f"sw-{DISTRICT}" in str(m["Subject"])]
        return mails if any("khôi phục" in str(m["Subject"]) for m in mails) else None

    district_mails = wait_for("the district switch's recovery mail", recovered, 120, demo.proc)
    firing = [m for m in district_mails if "khôi phục" not in str(m["Subject"])]
    recovery = [m for m in district_mails if "khôi phục" in str(m["Subject"])]
    assert len(firing) == 1 and len(recovery) == 1
    assert firing[0]["To"] == DISTRICT_MAILBOX and recovery[0]["To"] == DISTRICT_MAILBOX
    subject = str(firing[0]["Subject"])
    assert subject.startswith("[NGHIÊM TRỌNG] Mất kết nối: sw-vu-thu – ")
    body = firing[0].get_body(("plain", "html"))
    assert body is not None
    text = body.get_content()
    assert "Số thiết bị phía sau bị ảnh hưởng" in text
    behind = {n for n in ids if n.startswith((f"sw-{DISTRICT}-", f"cam-{DISTRICT}-", f"nvr-{DISTRICT}"))}
    assert not [m["Subject"] for m in demo.mails() if any(n in str(m["Subject"]) for n in behind)]

    # InfluxDB came back and the spool drained into it: one sensor's series has a point every 10 s
    # from before the kill to well after the restart, none missing.
    def sensor_times() -> list[int]:
        rows = demo.series("sensor", sensor, fault_at - 30)
        return sorted({int(t) for s in rows for t, _ in _column(s, "time")})

    restarted = fault_at + 15
    times = wait_for(
        "the sensor's points after InfluxDB's restart",
        lambda: (
            ((found := sensor_times()) and found[-1] >= restarted + 3 * SENSOR_INTERVAL_S and found) or None
        ),
        90,
        demo.proc,
    )
    assert times[0] <= fault_at and times[-1] - times[0] >= 60, times
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {SENSOR_INTERVAL_S}, times
    assert "pending points" in demo.log.read_text()  # the demo showed `ioc telemetry status` draining

    # The communes behind the switch were UNREACHABLE, not DOWN (their check points went through the
    # spool too, while InfluxDB was dead).
    communes = {name: i for name, i in ids.items() if name.startswith(f"sw-{DISTRICT}-")}
    assert communes
    for name, device in communes.items():
        states = {p[1] for s in demo.series("check_result", device, fault_at) for p in _column(s, "state")}
        assert "unreachable" in states and "down" not in states, (name, states)

    # The drifting camera's ONVIF check stays up and says why it warns.
    onvif = [
        row
        for row in _rows(demo.series("check_result", ids[DRIFTING_CAMERA], fault_at))
        if row["check"] == "onvif"
    ]
    assert any(row["ok"] is True and row.get("error") == "clock_drift" for row in onvif), onvif

    # The stream is down while ONVIF answers: the same check round has RTSP failing, ONVIF passing.
    rounds: dict[int, dict[str, bool]] = {}
    for row in _rows(demo.series("check_result", ids[STREAMLESS_CAMERA], fault_at)):
        rounds.setdefault(row["time"], {})[row["check"]] = row["ok"]
    assert any(r.get("rtsp") is False and r.get("onvif") is True for r in rounds.values()), rounds

    # Through the wrap, the 32-bit switch's rates stay sane: no negative, nothing near 2^32 x 8 / 10 s,
    # and the burst that took the counter across 2^32 shows.
    rates = [row["in_bps"] for row in _rows(demo.series("snmp_interface", ids[WRAPPING_SWITCH], fault_at))
             if row.get("in_bps") is not None]  # fmt: skip
    assert rates and min(rates) >= 0 and max(rates) <= 1e9, rates
    assert max(rates) >= 2e7, rates  # ~100 Mbit/s during the 20 s burst

    # The malformed payload is a dead letter the CLI lists, with the bytes that came.
    letters = demo.ioc("--json", "deadletters", "list", "--device", str(ids[broken]))
    assert letters.returncode == 0, letters.stderr
    assert [r["payload_text"] for r in json.loads(letters.stdout)] == ['{"bn": "urn:dev:ioc:broken']

    # The flapping sensor shows FLAPPING (not DOWN, UP, DOWN...): its device_status says so.
    def flapping() -> bool:
        return any(
            row["state"] == "flapping" for row in _rows(demo.series("device_status", ids[flappy], flap_at))
        )

    wait_for(f"{flappy} FLAPPING", flapping, max(10.0, flap_at + 170 - time.time()), demo.proc)

    # SIGTERM: the demo stops everything it started; no process of it is left.
    tree = {p.pid for p in supervisor.children(recursive=True)} | started
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.proc.wait(90) == 0
    left = [
        pid for pid in tree if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert left == [], [psutil.Process(p).cmdline() for p in left]
    assert "demo stopped" in demo.log.read_text()
    assert not (demo.home / "demo" / "demo.pid").exists()

    # Run again in the same IOC_HOME: the registry is reused (same ids), nothing is onboarded again.
    again_log = demo.log.with_name("demo-again.log")
    again = Demo(demo.home, launch(demo.home, again_log), again_log)
    try:
        wait_for(
            "the rerun's banner", lambda: "IOC demo is running" in again_log.read_text(), 240, again.proc
        )
        said = again_log.read_text()
        assert f"registry: 0 devices onboarded now, {len(ids)} already there" in said, said
        assert not any(step in said for step in ("SNMP: probing", "ONVIF: onboarding", "MQTT: onboarding"))
        assert again.device_ids() == ids
    finally:
        if again.proc.poll() is None:
            again.proc.send_signal(signal.SIGTERM)
        stopped = again.proc.wait(90)
    assert stopped == 0


def _rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row of InfluxDB series as a dict of column to value."""
    return [dict(zip(s["columns"], row, strict=True)) for s in found for row in s["values"]]


def _column(series: dict[str, Any], name: str) -> list[tuple[Any, Any]]:
    """(time, value) of one column of an InfluxDB series, rows where it is set."""
    columns = series["columns"]
    index, at = columns.index(name), columns.index("time")
    return [(row[at], row[index]) for row in series["values"] if row[index] is not None]
