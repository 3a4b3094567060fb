"""A device that does not answer looks the same from every protocol: one HTTP body, one exit code.

The "devices" here are real sockets on loopback that never say a word: a UDP socket for SNMP, TCP
listeners (the kernel completes the handshake, nobody reads) for ONVIF's HTTP and MQTT. Each protocol's
client times out on its own and raises ``DeviceTimeout``; the app's one handler and the CLI's one runner
must turn that into the same shape, naming no secret.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ioc.settings import Settings
from provisioning.mqtt.settings import MqttSettings
from provisioning.onvif.settings import OnvifSettings
from provisioning.snmp.settings import SnmpSettings
from tests.registry.seed import build_world

IOC = str(Path(sys.executable).parent / "ioc")
ON_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""The database plays no part in how a device's failure is reported."""
LOOPBACK = ["127.0.0.0/8"]
SECRET = "s3cret-never-echoed"


@dataclass(frozen=True)
class Silent:
    udp: int
    """An SNMP "agent" that reads nothing and answers nothing."""
    tcp: int
    """A listener whose backlog accepts connections that nobody ever reads: ONVIF and MQTT time out."""
    closed: int
    """A TCP port with nothing listening: connection refused."""


@pytest.fixture(scope="module")
def silent() -> Iterator[Silent]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(64)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    try:
        yield Silent(udp.getsockname()[1], tcp.getsockname()[1], closed)
    finally:
        udp.close()
        tcp.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "snmp": SnmpSettings(allowed_networks=LOOPBACK),
            "onvif": OnvifSettings(allowed_networks=LOOPBACK),
            "mqtt": MqttSettings(allowed_networks=LOOPBACK),
        }
    )


def _requests(port_udp: int, port_tcp: int) -> dict[str, tuple[str, dict[str, object]]]:
    return {
        "snmp": (
            "/api/v1/snmp/onboard",
            {
                "host": "127.0.0.1",
                "port": port_udp,
                "credential": {"protocol": "snmp", "version": "2c", "community": SECRET},
                "timeout": 0.3,
                "retries": 0,
                "site_code": "A",
            },
        ),
        "onvif": (
            "/api/v1/onvif/onboard",
            {
                "address": "127.0.0.1",
                "port": port_tcp,
                "username": "admin",
                "password": SECRET,
                "site_code": "A",
                "timeout_s": 0.5,
            },
        ),
        "mqtt": (
            "/api/v1/mqtt/probe",
            {"host": "127.0.0.1", "port": port_tcp, "username": "u", "password": SECRET, "timeout": 0.5},
        ),
    }


@ON_SQLITE
async def test_a_silent_device_gives_one_body_from_every_protocol(api, sessions, silent: Silent) -> None:
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    bodies = {}
    for protocol, (path, body) in _requests(silent.udp, silent.tcp).items():
        answer = await api.client.post(path, json=body, headers=api.as_("engineer_a"))
        assert answer.status_code == 502, (protocol, answer.text)
        assert SECRET not in answer.text
        bodies[protocol] = answer.json()
        if path.endswith("/onboard"):  # the probe route of the same protocol fails the same way
            probe = {k: v for k, v in body.items() if k != "site_code"}
            probed = await api.client.post(
                path.replace("/onboard", "/probe"), json=probe, headers=api.as_("engineer_a")
            )
            assert probed.status_code == 502 and probed.json()["kind"] == "timeout", (protocol, probed.text)
    for protocol, body in bodies.items():
        assert set(body) == {"detail", "field", "kind", "retryable"}, protocol
        assert (body["kind"], body["retryable"], body["field"]) == ("timeout", True, None), protocol
        assert isinstance(body["detail"], str) and "127.0.0.1" in body["detail"], protocol
    listing = await api.client.get("/api/v1/devices", headers=api.as_("admin"))
    assert listing.json()["items"] == [], "a failed onboarding wrote a device"


@ON_SQLITE
async def test_a_refused_connection_is_unreachable_for_onvif_and_mqtt(api, sessions, silent: Silent) -> None:
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    requests = _requests(silent.udp, silent.closed)
    for protocol in ("onvif", "mqtt"):
        path, body = requests[protocol]
        answer = await api.client.post(path, json=body, headers=api.as_("engineer_a"))
        assert answer.status_code == 502, (protocol, answer.text)
        assert answer.json() == {
            "detail": answer.json()["detail"],
            "field": None,
            "kind": "unreachable",
            "retryable": True,
        }, protocol


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "IOC_HOME": str(home),
        "IOC_SNMP__ALLOWED_NETWORKS": "127.0.0.0/8",
        "IOC_ONVIF__ALLOWED_NETWORKS": "127.0.0.0/8",
        "IOC_MQTT__ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    return subprocess.run([IOC, "--json", *args], capture_output=True, text=True, env=env, timeout=60)


def test_the_cli_gives_one_exit_code_and_json_error_for_every_protocol(
    tmp_path: Path, silent: Silent
) -> None:
    target = f"127.0.0.1:{silent.tcp}"
    runs = {
        "snmp": _cli(
            tmp_path,
            "probe",
            "snmp",
            f"127.0.0.1:{silent.udp}",
            "--community",
            SECRET,
            "--timeout",
            "0.3",
            "--retries",
            "0",
        ),
        "onvif": _cli(tmp_path, "probe", "onvif", target, "-u", "admin", "-p", SECRET, "--timeout", "0.5"),
        "mqtt": _cli(tmp_path, "probe", "mqtt", target, "-u", "u", "-p", SECRET, "--timeout", "0.5"),
    }
    for protocol, done in runs.items():
        assert done.returncode == 4, (protocol, done.returncode, done.stderr)
        assert done.stdout == "", protocol
        assert SECRET not in done.stderr
        error = json.loads(done.stderr.strip().splitlines()[-1])
        assert set(error) == {"error", "details"}, protocol
        assert error["details"] == {"kind": "timeout", "retryable": True, "field": None}, protocol


def test_every_endpoint_type_parses_host_port_with_its_default_port() -> None:
    from provisioning.mqtt.models import MqttEndpoint
    from provisioning.onvif.models import OnvifEndpoint
    from provisioning.snmp.models import SnmpEndpoint

    assert SnmpEndpoint.split("sw-1.local") == ("sw-1.local", 161)
    assert OnvifEndpoint.split("cam-1.local") == ("cam-1.local", 80)
    assert MqttEndpoint.split("broker.local") == ("broker.local", 1883)
    assert SnmpEndpoint.split("[fd00::1]:1161") == ("fd00::1", 1161)
    assert OnvifEndpoint.split("fd00::1") == ("fd00::1", 80)  # a bare IPv6 address keeps the default
    for bad in ("cam:0", "cam:http", ":80", "[fd00::1"):
        with pytest.raises(ValueError, match=r"^HOST\[:PORT\]: "):
            OnvifEndpoint.split(bad)
