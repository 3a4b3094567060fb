"""Checks against real loopback services, with typed failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from device_registry.targets import DeviceTarget
from monitors.checks.defaults import default_checks
from monitors.checks.icmp import IcmpCheck, unprivileged_icmp_allowed
from monitors.checks.mqtt_freshness import MqttFreshnessCheck
from monitors.checks.tcp import TcpConnectCheck
from tests.monitors.conftest import Listeners
from tests.monitors.world import T0, FakeClock


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


async def test_kind_decides_default_checks() -> None:
    assert [c.name for c in default_checks(target(None, "camera"))] == ["icmp", "tcp:554"]
    assert [c.name for c in default_checks(target(161, "switch"))] == ["icmp"]
    assert [c.name for c in default_checks(target(8080, "controller"))] == ["tcp:8080"]

    async def last_seen(_device_id: int):
        return None

    sensor = target(None, "sensor")
    assert [c.name for c in default_checks(sensor, last_seen=last_seen)] == ["mqtt_freshness"]
    with pytest.raises(ValueError, match="last_seen"):
        default_checks(sensor)


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
