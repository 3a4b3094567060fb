"""WS-Discovery across network namespaces this test creates: probes leave only on the named interface.

Layout (private addresses exist only inside the two namespaces, removed at the end):

    ns "cams"                          ns "probe"
    va1 10.213.77.1/24  <── veth ──>  vb1 10.213.77.2/24   responder answering for cameras X1, X2
    va2 10.213.78.1/24  <── veth ──>  vb2 10.213.78.2/24   responder answering for camera Y
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.onvif import wait_simulator_ready
from tests.support.process import ManagedProcess, require_binary

IOC = str(Path(sys.executable).with_name("ioc"))


@dataclass(frozen=True)
class Namespaces:
    cams: str
    probe: str
    suffix: str

    def iface(self, side: str, n: int) -> str:
        return f"v{side}{n}{self.suffix}"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def namespaces() -> Iterator[Namespaces]:
    require_binary("ip", "iproute2")
    if os.geteuid() != 0:
        pytest.fail(
            "the WS-Discovery test creates network namespaces: run it as root (CI does)", pytrace=False
        )
    suffix = str(os.getpid() % 100000)
    ns = Namespaces(f"ioc-onvif-cams-{suffix}", f"ioc-onvif-probe-{suffix}", suffix)
    try:
        _ip("netns", "add", ns.cams)
        _ip("netns", "add", ns.probe)
        for n, subnet in ((1, "10.213.77"), (2, "10.213.78")):
            a, b = ns.iface("a", n), ns.iface("b", n)
            _ip("link", "add", a, "netns", ns.cams, "type", "veth", "peer", "name", b, "netns", ns.probe)
            _ip("-n", ns.cams, "addr", "add", f"{subnet}.1/24", "dev", a)
            _ip("-n", ns.probe, "addr", "add", f"{subnet}.2/24", "dev", b)
            _ip("-n", ns.cams, "link", "set", a, "up")
            _ip("-n", ns.probe, "link", "set", b, "up")
        for name in (ns.cams, ns.probe):
            _ip("-n", name, "link", "set", "lo", "up")
        yield ns
    finally:
        for name in (ns.cams, ns.probe):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False, timeout=10)


def _responder(ns: Namespaces, tmp: Path, n: int, cameras: list[dict[str, object]], malformed: str | None):
    address = f"10.213.{76 + n}.1"
    config = tmp / f"fleet{n}.yaml"
    config.write_text(yaml.safe_dump(cameras, allow_unicode=True))
    log = tmp / f"sim{n}.log"
    argv = [
        "ip",
        "netns",
        "exec",
        ns.cams,
        sys.executable,
        "-m",
        "simulators.onvif_camera",
        "--config",
        str(config),
    ]
    argv += ["--host", address, "--discovery-address", address, "--discovery-interface", ns.iface("a", n)]
    if malformed:
        argv += ["--malformed", malformed]
    return ManagedProcess(argv, log_path=log, ready=lambda: wait_simulator_ready(log)).start()


def _ioc_in_probe_ns(
    ns: Namespaces, *args: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IOC_HOME": str(home)} if home else None
    return subprocess.run(
        ["ip", "netns", "exec", ns.probe, IOC, "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("malformed", [None, "no_wrapper", "unescaped_scopes"])
def test_discovery_sees_only_the_named_interface(namespaces, tmp_path, malformed):
    x = [
        {"name": "Cổng A&B", "model": "DS-2CD2143", "location": "Hưng Yên", "port": 8081},
        {"name": "Ngã tư", "model": "IPC-HFW", "location": "Hưng Yên", "port": 8082},
    ]
    y = [{"name": "Kho Y", "model": "NVR4104", "channels": 4, "port": 8083}]
    first = _responder(namespaces, tmp_path, 1, x, malformed)
    # The second segment only matters once: malformed variants test parsing on the first.
    second = _responder(namespaces, tmp_path, 2, y, malformed) if malformed is None else None
    try:
        done = _ioc_in_probe_ns(
            namespaces, "discover", "onvif", "--interface", namespaces.iface("b", 1), "--timeout", "1"
        )
        assert done.returncode == 0, done.stderr
        answered = json.loads(done.stdout)
        assert (answered["interface"], answered["complete"]) == (namespaces.iface("b", 1), True)
        found = answered["found"]
        assert {d["address"] for d in found} == {"10.213.77.1"}
        assert sorted(d["xaddrs"][0] for d in found) == [
            "http://10.213.77.1:8081/onvif/device_service",
            "http://10.213.77.1:8082/onvif/device_service",
        ]
        names = sorted(d["name"] for d in found)
        assert names == (
            ["Cổng_A&B", "Ngã_tư"] if malformed == "unescaped_scopes" else ["Cổng A&B", "Ngã tư"]
        )
        assert {d["hardware"] for d in found} == {"DS-2CD2143", "IPC-HFW"}

        if second is None:
            return
        other = _ioc_in_probe_ns(
            namespaces, "discover", "onvif", "--interface", namespaces.iface("b", 2), "--timeout", "1"
        )
        [nvr] = json.loads(other.stdout)["found"]
        assert nvr["address"] == "10.213.78.1" and nvr["name"] == "Kho Y"
        assert "onvif://www.onvif.org/type/NVR" in nvr["scopes"]

        # What discovery finds can be onboarded in the same step.
        home = tmp_path / "home"
        assert _ioc_in_probe_ns(namespaces, "init", home=home).returncode == 0
        assert _ioc_in_probe_ns(namespaces, "sites", "add", "KHO", "Kho Y", home=home).returncode == 0
        onboarded = _ioc_in_probe_ns(
            namespaces,
            "discover",
            "onvif",
            "--interface",
            namespaces.iface("b", 2),
            "--timeout",
            "1",
            "--onboard",
            "--site",
            "KHO",
            "--user",
            "admin",
            "--password",
            "admin123",
            home=home,
        )
        assert onboarded.returncode == 0, onboarded.stderr
        [attempt] = json.loads(onboarded.stdout)["onboarded"]
        assert attempt["address"] == "10.213.78.1" and attempt["error"] is None
        assert attempt["onboarded"]["kind"] == "nvr" and len(attempt["onboarded"]["probe"]["channels"]) == 4
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_unknown_interface_is_a_clear_error(namespaces):
    done = _ioc_in_probe_ns(namespaces, "discover", "onvif", "--interface", "nosuch0")
    assert done.returncode == 2
    assert json.loads(done.stderr)["error"] == "--interface: no network interface named 'nosuch0'"
