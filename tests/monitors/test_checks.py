"""Checks against real loopback services, with typed failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.defaults import DefaultChecks
from monitors.checks.icmp import IcmpCheck, unprivileged_icmp_allowed
from monitors.checks.mqtt_freshness import MqttFreshnessCheck
from monitors.checks.rtsp import RtspDescribeCheck
from monitors.checks.tcp import TcpConnectCheck
from tests.monitors.conftest import Listeners
from tests.monitors.world import T0, FakeClock
from tests.support.snmpd import community


def target(port: int | None = None, kind: str = "camera", address: str = "127.0.0.1") -> DeviceTarget:
    return DeviceTarget(device_id=7, name="cam-7", kind=kind, address=address, port=port)


async def test_tcp_connect_up_then_refused(listeners: Listeners) -> None:
    (service,) = await listeners.open(1)
    check = TcpConnectCheck(timeout_s=1)
    up = await check.run(target(service.port))
    assert up.ok and up.latency_ms is not None and up.latency_ms >= 0 and up.error_kind is None

    await service.cut()
    down = await check.run(target(service.port))
    assert (down.ok, down.error_kind) == (False, "unreachable")
    assert f"port {service.port} refused" in down.reason


async def test_tcp_without_port_is_not_supported() -> None:
    result = await TcpConnectCheck().run(target(None))
    assert (result.ok, result.error_kind) == (False, "not_supported")


async def test_icmp_loopback_answers() -> None:
    result = await IcmpCheck(timeout_s=1).run(target(address="127.0.3.9"))
    assert result.ok and result.latency_ms is not None


async def test_icmp_refuses_names_without_resolving_them() -> None:
    result = await IcmpCheck(timeout_s=0.5).run(target(address="switch.example"))
    assert (result.ok, result.error_kind) == (False, "not_supported")
    assert "not an IP address" in result.reason


def test_ping_group_range_decides_the_socket_kind(tmp_path: Path) -> None:
    closed, open_ = tmp_path / "closed", tmp_path / "open"
    closed.write_text("1\t0\n")
    open_.write_text("0\t2147483647\n")
    assert not unprivileged_icmp_allowed(closed)
    assert unprivileged_icmp_allowed(open_)
    assert not unprivileged_icmp_allowed(tmp_path / "missing")


async def test_mqtt_freshness_counts_missed_intervals() -> None:
    clock = FakeClock()
    seen = {7: T0 - timedelta(seconds=170)}

    async def last_seen(device_id: int):
        return seen.get(device_id)

    check = MqttFreshnessCheck(last_seen, publish_interval_s=60, missed_intervals=3, clock=clock)
    assert (await check.run(target())).ok
    clock.advance(20)
    stale = await check.run(target())
    assert (stale.ok, stale.error_kind) == (False, "timeout") and "190s ago" in stale.reason
    seen.clear()
    never = await check.run(target())
    assert (never.ok, never.error_kind) == (False, "unreachable")
    with pytest.raises(ValueError, match="publish_interval_s"):
        MqttFreshnessCheck(last_seen, publish_interval_s=0)


async def test_mqtt_device_not_heard_from_since_the_start_fails_one_freshness_limit_later() -> None:
    """Right after the monitors start, a sensor's first message may not have come yet: no page."""
    clock = FakeClock()
    check = MqttFreshnessCheck(_never_seen, publish_interval_s=10, clock=clock, watching_since=clock())
    clock.advance(25)
    waiting = await check.run(target())
    assert (waiting.ok, waiting.reason) == (True, "no message yet (watching for 25s)")
    clock.advance(10)
    silent = await check.run(target())
    assert (silent.ok, silent.error_kind) == (False, "unreachable")


async def _never_seen(_device_id: int) -> None:
    return None


SNMP = community("public")
ONVIF = UsernamePasswordCredential(username="viewer", password=SecretStr("x"))


@pytest.mark.parametrize(
    ("kind", "protocols", "port", "credential", "expected"),
    [
        ("switch", ("snmp",), None, SNMP, ["icmp", "snmp"]),
        ("router", ("snmp",), 1161, SNMP, ["icmp", "snmp"]),
        ("firewall", ("snmp",), None, SNMP, ["icmp", "snmp"]),
        ("ups", ("snmp",), None, SNMP, ["icmp", "snmp"]),
        ("switch", ("snmp",), None, None, ["icmp"]),  # no credential: no check that can only fail
        ("switch", (), 161, None, ["icmp"]),
        ("camera", ("onvif",), 80, ONVIF, ["icmp", "onvif", "rtsp"]),
        ("nvr", ("onvif",), 8000, ONVIF, ["icmp", "onvif", "rtsp"]),
        ("camera", (), None, None, ["icmp", "tcp:554"]),
        ("sensor", ("mqtt",), None, None, ["mqtt_freshness"]),
        ("sensor", (), None, None, ["mqtt_freshness"]),
        ("other", ("mqtt",), None, None, ["mqtt_freshness"]),
        ("other", (), 8080, None, ["tcp:8080"]),
        ("other", (), None, None, ["icmp"]),
    ],
)
async def test_kind_and_protocols_decide_default_checks(kind, protocols, port, credential, expected) -> None:
    device = DeviceTarget(7, "dev-7", kind, "127.0.0.1", port, (), protocols, credential)
    defaults = DefaultChecks(last_seen=_never_seen)
    try:
        assert [c.name for c in defaults.for_target(device)] == expected
    finally:
        await defaults.close()


async def test_mqtt_devices_without_a_last_seen_lookup_are_refused_by_name() -> None:
    defaults = DefaultChecks()
    with pytest.raises(ValueError, match="device 7: MQTT devices need a last_seen lookup"):
        defaults.for_target(target(None, "sensor"))
    await defaults.close()


async def test_stream_uri_reaches_the_rtsp_check_and_checks_are_shared() -> None:
    defaults = DefaultChecks()
    camera = DeviceTarget(7, "cam", "camera", "127.0.0.1", 80, (), ("onvif",), ONVIF)
    *_, rtsp = defaults.for_target(camera, stream_uri="rtsp://127.0.0.1:8554/main")
    assert isinstance(rtsp, RtspDescribeCheck) and rtsp.url == "rtsp://127.0.0.1:8554/main"
    other = DeviceTarget(8, "cam-8", "camera", "127.0.0.2", 80, (), ("onvif",), ONVIF)
    assert defaults.for_target(camera)[1] is defaults.for_target(other)[1], "one ONVIF reader for all"
    await defaults.close()


def test_monitor_settings_from_environment_and_bad_policy_names_the_field(monkeypatch) -> None:
    from pydantic import ValidationError

    from ioc.settings import Settings
    from monitors.config import StatePolicy

    monkeypatch.setenv("IOC_MONITORS__DEFAULT__FAIL_THRESHOLD", "5")
    monkeypatch.setenv("IOC_MONITORS__KINDS", '{"camera": {"interval_s": 30}}')
    settings = Settings()
    assert settings.monitors.default.fail_threshold == 5
    assert settings.monitors.policy_for("camera").interval_s == 30
    assert settings.monitors.policy_for("switch").interval_s == 60
    with pytest.raises(ValidationError, match="flap_leave_changes"):
        StatePolicy(flap_enter_changes=3, flap_leave_changes=3)
    with pytest.raises(ValidationError, match="fail_threshold"):
        StatePolicy(fail_threshold=0)
