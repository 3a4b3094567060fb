"""Monitoring fed by the real registry: who is watched, topology, live changes, outages in the database."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from device_registry import log_once
from device_registry.authz import Principal
from device_registry.credentials import UsernamePasswordCredential
from device_registry.db import transaction
from device_registry.models import Lifecycle, Protocol
from monitors.checks.defaults import DefaultChecks
from monitors.checks.rtsp import RtspDescribeCheck
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import DeviceState, EventBus
from monitors.maintenance import MaintenanceWindow
from monitors.maintenance_store import add_window
from monitors.outage_store import load_outages
from monitors.registry_source import load_snapshot, monitored_devices
from monitors.runner import RegistryMonitors
from provisioning import facts
from tests.monitors.conftest import Listeners
from tests.monitors.registry_world import DeviceKind, registry, set_attributes, update
from tests.monitors.test_scheduler import RecordingSink
from tests.support.onvif import RTSP_PASSWORD, RTSP_USER, Fleet, onboard_camera
from tests.support.snmpd import community
from tests.support.waits import wait_until


async def test_snapshot_watches_active_and_maintenance_devices_with_their_uplinks(db_url: str) -> None:
    async with registry(db_url) as reg:
        sw1 = await reg.add_device("sw1", DeviceKind.SWITCH, "D1")
        sw2 = await reg.add_device("sw2", DeviceKind.SWITCH, "D1")
        cam = await reg.add_device("cam", DeviceKind.CAMERA, "A", uplinks=("sw1", "sw2"))
        fixing = await reg.add_device("fixing", DeviceKind.CAMERA, "A2", lifecycle=Lifecycle.MAINTENANCE)
        await reg.add_device("planned", DeviceKind.CAMERA, "A", lifecycle=Lifecycle.PLANNED)
        await reg.add_device("old", DeviceKind.CAMERA, "A", lifecycle=Lifecycle.RETIRED)
        await reg.add_device("noaddr", DeviceKind.GATEWAY, "B", address=None)
        await set_attributes(reg, "cam", {"check_interval_s": 30})
        async with reg.sessions() as session:
            snapshot = await load_snapshot(session)

    targets = {t.name: t for t in snapshot.targets}
    assert set(targets) == {"sw1", "sw2", "cam", "fixing", "noaddr"}
    assert targets["cam"].site_codes == ("P", "D1", "A")
    assert snapshot.topology.uplinks_of(cam) == (sw1, sw2) or set(snapshot.topology.uplinks_of(cam)) == {
        sw1,
        sw2,
    }
    assert snapshot.in_maintenance == {fixing}
    assert snapshot.intervals == {cam: 30.0}
    devices, skipped = monitored_devices(snapshot, DefaultChecks())
    assert {d.target.name for d in devices} == {"sw1", "sw2", "cam", "fixing"}
    assert skipped == [f"device {targets['noaddr'].device_id}: no address to check"]
    assert [c.name for c in next(d for d in devices if d.target.name == "cam").checks] == ["icmp", "tcp:554"]


async def test_switch_and_onboarded_camera_get_protocol_checks_with_their_credentials(
    db_url: str, fleet: Fleet
) -> None:
    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url="rtsp://{host}:8554/live/{token}")
    async with registry(db_url) as reg:
        switch = await reg.add_device(
            "sw", DeviceKind.SWITCH, "D1", protocols=[Protocol.SNMP], credential=community("s3cret")
        )
        async with reg.sessions() as session, session.begin():
            camera_id = await onboard_camera(session, reg.box, cam, "A", "cam-a")
        async with reg.sessions() as session:
            sealed = await load_snapshot(session)
            snapshot = await load_snapshot(session, reg.box)

    assert all(t.credential is None for t in sealed.targets), "no box, no secrets"
    defaults = DefaultChecks()
    devices = {d.target.device_id: d for d in monitored_devices(snapshot, defaults)[0]}
    await defaults.close()
    sw, camera = devices[switch], devices[camera_id]
    assert [c.name for c in sw.checks] == ["icmp", "snmp"]
    assert sw.target.credential == community("s3cret")
    assert [c.name for c in camera.checks] == ["icmp", "onvif", "rtsp"]
    assert isinstance(camera.target.credential, UsernamePasswordCredential)
    assert camera.target.credential.username == RTSP_USER
    rtsp = camera.checks[2]
    assert isinstance(rtsp, RtspDescribeCheck)
    assert rtsp.url is not None and rtsp.url.startswith("rtsp://127.0.0.1:8554/live/")
    stored = camera.target.attributes["onvif"]["device_service_url"]
    assert stored == f"http://127.0.0.1:{cam.port}/onvif/device_service", "the ONVIF check asks there"


async def test_registry_changes_apply_live_and_outages_land_in_the_database(
    db_url: str, listeners: Listeners
) -> None:
    a, b, c = await listeners.open(3)
    policy = StatePolicy(fail_threshold=2, recover_threshold=1, interval_s=0.5, retry_interval_s=0.2)
    settings = MonitorSettings(default=policy, tick_s=0.05, registry_refresh_s=0.2, check_timeout_s=1)
    bus = EventBus()
    inbox = bus.subscribe()
    async with registry(db_url) as reg:
        gw = await reg.add_device("gw", DeviceKind.OTHER, "D1", port=a.port)
        cam = await reg.add_device("cam", DeviceKind.OTHER, "A", port=b.port, uplinks=("gw",))
        sink = RecordingSink()
        monitors = RegistryMonitors(settings, reg.sessions, events=bus, sink=sink)
        engine = monitors.service.engine
        runner = asyncio.create_task(monitors.run())
        try:

            async def both_up() -> bool:
                return engine.state_of(gw) is DeviceState.UP and engine.state_of(cam) is DeviceState.UP

            await wait_until(both_up, 20, "gw and cam UP")

            # added while running
            late = await reg.add_device("late", DeviceKind.OTHER, "B", port=c.port)

            async def late_up() -> bool:
                return engine.state_of(late) is DeviceState.UP

            await wait_until(late_up, 20, "the device added while running UP")

            # a window on commune B, then 'late' fails: DOWN is recorded but flagged in maintenance
            now = datetime.now(UTC)
            async with transaction(reg.sessions) as session:
                await add_window(
                    session,
                    Principal.system("test"),
                    MaintenanceWindow(
                        reason="pole",
                        owner="team-b",
                        site_id=reg.sites["B"],
                        starts_at=now,
                        ends_at=now + timedelta(hours=1),
                    ),
                )

            async def window_applied() -> bool:  # by the monitors' own registry refresh
                return monitors.calendar.covers(late, datetime.now(UTC))

            await wait_until(window_applied, 20, "the maintenance window on B in the monitors' calendar")
            await c.cut()

            async def late_down() -> bool:
                return engine.state_of(late) is DeviceState.DOWN

            await wait_until(late_down, 20, "late DOWN")

            # retired: no longer checked, its outage closed
            await update(reg, "late", lifecycle=Lifecycle.RETIRED)

            async def late_gone() -> bool:
                return late not in monitors.service.scheduler

            await wait_until(late_gone, 20, "retired late no longer scheduled")

            # the gateway dies with the camera behind it: one root outage in the database
            await a.cut()
            await b.cut()

            async def cut_off() -> bool:
                return (
                    engine.state_of(gw) is DeviceState.DOWN
                    and engine.state_of(cam) is DeviceState.UNREACHABLE
                )

            await wait_until(cut_off, 20, "gw DOWN and cam UNREACHABLE")
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

        async with reg.sessions() as session:
            stored = await load_outages(
                session, now - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1)
            )

    by_device = {o.device_id: o for o in stored}
    assert by_device[late].end is not None, "retiring closes the outage"
    assert by_device[gw].is_root and by_device[gw].affected_count == 1
    assert by_device[cam].root_cause_device_id == gw and by_device[cam].end is None
    events = []
    while not inbox.empty():
        events.append(inbox.get_nowait())
    late_down_event = next(e for e in events if e.device_id == late and e.current is DeviceState.DOWN)
    assert late_down_event.in_maintenance
    # device_status: 'late' failing under the window reads "maintenance", so availability can leave it out
    late_statuses = [p.fields for p in sink.statuses if p.tags["device_id"] == str(late)]
    assert {"state": "maintenance", "severity": 1, "up": 0, "in_maintenance": True} in late_statuses
    assert late_statuses[0] == {"state": "up", "severity": 0, "up": 1, "in_maintenance": False}
    cam_tags = {k: v for k, v in next(p for p in sink.points if p.tags["device"] == "cam").tags.items()}
    assert cam_tags == {
        "device_id": str(cam),
        "device": "cam",
        "kind": "other",
        "province": "P",
        "district": "D1",
        "commune": "A",
        "site": "A",
        "check": cam_tags["check"],
    }
    assert [e.device_id for e in events if e.current is DeviceState.DOWN and not e.in_maintenance] == [gw]


async def test_a_broken_onvif_record_is_logged_once_and_its_camera_checked_with_the_safe_defaults(
    db_url: str, fleet: Fleet, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_once, "_logged", set())  # logged once per process: start this test afresh
    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url="rtsp://{host}:8554/live/{token}")
    login = UsernamePasswordCredential(
        protocol="onvif", username=RTSP_USER, password=SecretStr(RTSP_PASSWORD)
    )
    caplog.set_level(logging.ERROR, logger=facts.__name__)
    async with registry(db_url) as reg:
        async with reg.sessions() as session, session.begin():
            good = await onboard_camera(session, reg.box, cam, "A", "cam-good")
        broken = await reg.add_device(
            "cam-broken", DeviceKind.CAMERA, "A", port=cam.port, protocols=[Protocol.ONVIF], credential=login
        )
        await set_attributes(reg, "cam-broken", {"onvif": {"version": 1, "profiles": "garbage"}})
        async with reg.sessions() as session:
            await load_snapshot(session, reg.box)
            snapshot = await load_snapshot(session, reg.box)

    assert set(snapshot.stream_uris) == {good}  # the good camera keeps its stream URI
    defaults = DefaultChecks()
    try:
        devices = {d.target.device_id: d for d in monitored_devices(snapshot, defaults)[0]}
        assert {good, broken} <= set(devices)
        for device_id in (good, broken):
            (onvif,) = [c for c in devices[device_id].checks if c.name == "onvif"]
            result = await onvif.run(devices[device_id].target)
            assert result.ok and result.reason.startswith("clock "), result  # default path answers
    finally:
        await defaults.close()
    logged = [r.getMessage() for r in caplog.records if r.name == facts.__name__]
    assert logged == [
        f"device {broken}: stored onvif facts ignored, they do not validate: "
        "attributes['onvif']: profiles: Input should be a valid list"
    ]
