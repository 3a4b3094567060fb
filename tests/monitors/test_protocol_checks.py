"""SNMP, ONVIF and RTSP checks against real agents: net-snmp's snmpd, simulated ONVIF cameras and
GStreamer's RTSP server, with typed failures that tell an auth failure from a timeout."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from pydantic import SecretStr

from device_registry.credentials import Credential, UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.onvif import OnvifCheck
from monitors.checks.rtsp import RtspDescribeCheck
from monitors.checks.snmp import SnmpUptimeCheck
from provisioning.onvif.client import DeviceClockReader
from tests.support.onvif import RTSP_PASSWORD, RTSP_USER, Fleet, RtspServer
from tests.support.process import free_port
from tests.support.snmpd import Agent, community, start_snmpd, v3_credential


def target(port: int | None, credential: Credential | None = None, kind: str = "switch") -> DeviceTarget:
    return DeviceTarget(7, "dev-7", kind, "127.0.0.1", port, ("P", "D1"), (), credential)


def viewer(password: str = RTSP_PASSWORD) -> UsernamePasswordCredential:
    return UsernamePasswordCredential(username=RTSP_USER, password=SecretStr(password))


async def test_snmp_uptime_ok_and_auth_failure_told_from_timeout(snmpd: Agent) -> None:
    check = SnmpUptimeCheck(timeout_s=1.0)
    try:
        up = await check.run(target(snmpd.port, community("public")))
        assert (up.check, up.ok, up.error_kind) == ("snmp", True, None)
        assert up.latency_ms is not None and up.latency_ms > 0 and up.reason.startswith("up 0d ")

        v3 = await check.run(target(snmpd.port, v3_credential()))
        assert v3.ok

        wrong_key = await check.run(target(snmpd.port, v3_credential(auth_key="not-the-key-123")))
        assert (wrong_key.ok, wrong_key.error_kind) == (False, "auth_failed")
        assert "not-the-key" not in wrong_key.reason

        silent = await check.run(target(free_port(socket.SOCK_DGRAM), community("public")))
        assert (silent.ok, silent.error_kind) == (False, "timeout")

        bare = await check.run(target(snmpd.port, None))
        assert (bare.ok, bare.error_kind) == (False, "not_supported")
    finally:
        check.close()


async def test_snmp_uptime_going_backwards_is_up_but_says_the_device_restarted(tmp_path: Path) -> None:
    agent = start_snmpd(tmp_path)
    check = SnmpUptimeCheck(timeout_s=1.0)
    switch = target(agent.port, community("public"))
    try:
        await asyncio.sleep(0.6)  # sysUpTime counts hundredths: let it grow past a restart's
        first = await check.run(switch)
        assert first.ok and "backwards" not in first.reason
        agent.process.restart()
        again = await check.run(switch)
        assert again.ok, "a restarted device is up"
        assert "sysUpTime went backwards" in again.reason and "restarted" in again.reason
        assert "backwards" not in (await check.run(switch)).reason, "said once, at the restart"
    finally:
        check.close()
        agent.process.stop()


async def test_onvif_answers_unauthenticated_and_a_dead_camera_is_unreachable(fleet: Fleet) -> None:
    cam = await fleet(clock_offset_s=42, password="never-used-by-this-check")
    reader = DeviceClockReader(timeout=2)
    check = OnvifCheck(reader)
    try:
        up = await check.run(target(cam.port, kind="camera"))
        assert (up.check, up.ok) == ("onvif", True)
        assert up.latency_ms is not None and up.latency_ms > 0
        assert up.reason.startswith("clock +4")  # +41.x .. +42.x s
        down = await check.run(target(free_port(), kind="camera"))
        assert (down.ok, down.error_kind) == (False, "unreachable")
    finally:
        await reader.close()


async def test_onvif_clock_past_the_drift_limit_is_up_with_a_clock_drift_warning(fleet: Fleet) -> None:
    near, far = await fleet(clock_offset_s=42), await fleet(clock_offset_s=900)
    reader = DeviceClockReader(timeout=2)
    check = OnvifCheck(reader, clock_drift_warn_s=300)
    try:
        fine = await check.run(target(near.port, kind="camera"))
        drifted = await check.run(target(far.port, kind="camera"))
    finally:
        await reader.close()
    # ONVIF carries whole seconds, so the measured offset is the set one within a second either way.
    assert (fine.ok, fine.error_kind) == (True, None)
    assert abs(_offset(fine.reason, "clock ") - 42) <= 1.5
    assert (drifted.ok, drifted.error_kind) == (True, "clock_drift")
    assert drifted.reason.startswith("clock_drift: clock ") and drifted.reason.endswith("beyond ±300s")
    assert abs(_offset(drifted.reason, "clock_drift: clock ") - 900) <= 1.5


def _offset(reason: str, prefix: str) -> float:
    """The signed seconds a reason such as ``clock +41.6s …`` reports after ``prefix``."""
    assert reason.startswith(prefix), reason
    return float(reason[len(prefix) :].split("s", 1)[0])


async def test_onvif_without_an_answer_in_time_is_a_timeout(fleet: Fleet) -> None:
    cam = await fleet(slow_s=1.0)
    reader = DeviceClockReader(timeout=0.3)
    try:
        slow = await OnvifCheck(reader).run(target(cam.port, kind="camera"))
    finally:
        await reader.close()
    assert (slow.ok, slow.error_kind) == (False, "timeout")


async def test_rtsp_describe_logs_in_with_the_device_credential(rtsp_server: RtspServer) -> None:
    check = RtspDescribeCheck(rtsp_server.url, timeout_s=10)
    up = await check.run(target(None, viewer(), kind="camera"))
    assert (up.check, up.ok) == ("rtsp", True) and "video" in up.reason
    assert up.latency_ms is not None and up.latency_ms > 0

    wrong = await check.run(target(None, viewer("guessed"), kind="camera"))
    assert (wrong.ok, wrong.error_kind) == (False, "auth_failed") and "guessed" not in wrong.reason
    anonymous = await check.run(target(None, None, kind="camera"))
    assert (anonymous.ok, anonymous.error_kind) == (False, "auth_failed")

    missing = await RtspDescribeCheck(f"rtsp://127.0.0.1:{rtsp_server.port}/nothing-here").run(
        target(None, viewer(), kind="camera")
    )
    assert (missing.ok, missing.error_kind) == (False, "stream_not_found")


async def test_rtsp_without_a_stored_uri_tries_the_standard_port(rtsp_server: RtspServer) -> None:
    result = await RtspDescribeCheck(timeout_s=2).run(
        DeviceTarget(7, "cam", "camera", "127.0.0.1", None, credential=viewer())
    )
    assert not result.ok and "rtsp://127.0.0.1:554/" in result.reason
