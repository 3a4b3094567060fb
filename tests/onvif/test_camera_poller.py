"""The ``cameras`` service: simulated cameras onboarded in the registry yield camera_health points."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.models import DeviceKind, Lifecycle, Protocol, SiteKind
from device_registry.schemas.devices import DeviceCreate, DeviceUpdate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_device, update_device
from device_registry.services.sites import create_site
from ioc.camera_poller import camera_poller
from ioc.runtime import Platform
from ioc.services import SERVICES
from provisioning.onvif.settings import OnvifSettings
from telemetry.registry_poller import RegistryPoller
from tests.mqtt.sinks import RecordingSink
from tests.support.onvif import RTSP_PASSWORD, RTSP_USER, Fleet, RtspServer, onboard_camera
from tests.support.platform import sqlite_platform
from tests.support.waits import wait_until

ADMIN = Principal.system("test-admin")


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with sqlite_platform(tmp_path, onvif=OnvifSettings(call_timeout_s=2, rtsp_timeout_s=10)) as opened:
        yield opened


async def test_onboarded_cameras_yield_camera_health_and_retired_or_keyless_ones_are_not_polled(
    platform: Platform, fleet: Fleet, rtsp_server: RtspServer, caplog: pytest.LogCaptureFixture
) -> None:
    live = await fleet(username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"{rtsp_server.url}?t={{token}}")
    retired = await fleet(username=RTSP_USER, password=RTSP_PASSWORD)
    async with platform.sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="TB", name="Thái Bình", kind=SiteKind.PROVINCE))
        await create_site(
            session, ADMIN, SiteCreate(code="TB-VT", name="Vũ Thư", kind=SiteKind.DISTRICT, parent_code="TB")
        )
        ids = {
            name: await onboard_camera(session, platform.box, cam, "TB-VT", name)
            for name, cam in (("cam-live", live), ("cam-retired", retired))
        }
        await update_device(
            session, ADMIN, platform.box, ids["cam-retired"], DeviceUpdate(lifecycle=Lifecycle.RETIRED)
        )
        keyless = await create_device(
            session,
            ADMIN,
            platform.box,
            DeviceCreate(
                name="cam-keyless",
                kind=DeviceKind.CAMERA,
                site_code="TB-VT",
                address="127.0.0.1",
                port=live.port,
                protocols=[Protocol.ONVIF],
            ),
        )
        keyless_id = keyless.id

    sink = RecordingSink()
    poller = camera_poller(platform, sink)
    caplog.set_level(logging.INFO, logger="telemetry.registry_poller")
    summary = await poller.run_once()

    assert (summary.devices, summary.ok, summary.failed) == (1, 1, 0)
    keyless_warning = f"device {keyless_id} (cam-keyless) has onvif but no usable credential: not polled"
    assert caplog.messages == [keyless_warning]
    [health] = [p for p in sink.points if p.measurement == "camera_health"]
    assert health.tags == {
        "device_id": str(ids["cam-live"]),
        "device": "cam-live",
        "kind": "camera",
        "province": "TB",
        "district": "TB-VT",
        "site": "TB-VT",
    }
    assert (health.fields["onvif_up"], health.fields["rtsp_up"]) == (1, 1)
    assert any(
        p.measurement == "collector_cycle" and p.tags == {"collector": "camera_health"} for p in sink.points
    )
    [poll] = [p for p in sink.points if p.measurement == "collector_poll"]
    assert poll.tags == {"collector": "camera_health", **health.tags}
    assert SERVICES["cameras"].__name__ == "cameras_service"

    # targets are re-read every cycle; the warning is said again only when it changes
    await poller.targets()
    await poller.targets()
    assert caplog.messages == [keyless_warning]
    async with platform.sessions() as session, session.begin():
        await update_device(
            session, ADMIN, platform.box, keyless_id, DeviceUpdate(lifecycle=Lifecycle.RETIRED)
        )
    assert [t.device_id for t in await poller.targets()] == [ids["cam-live"]]
    assert caplog.messages[1:] == [f"device {keyless_id}: no longer left out of onvif polling"]
    await poller.targets()
    assert len(caplog.messages) == 2

    # a key that opens no stored credential (a restored backup, a rotated key): named once, with why
    rekeyed = RegistryPoller(platform.sessions, SecretBox(generate_key()), "onvif", poller.runner)
    caplog.clear()
    assert await rekeyed.targets() == [] and await rekeyed.targets() == []
    [warning] = caplog.messages
    assert warning.startswith(
        f"device {ids['cam-live']} (cam-live) has onvif but no usable credential (credential "
    )
    assert warning.endswith("cannot be opened: credential cannot be decrypted with this key): not polled")


async def test_camera_service_writes_through_the_platform_writer(platform: Platform, fleet: Fleet) -> None:
    """``ioc serve --only cameras`` shape: the service starts the writer and polls at once."""
    from ioc.camera_poller import camera_service

    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD)
    async with platform.sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="TB", name="Thái Bình", kind=SiteKind.PROVINCE))
        await onboard_camera(session, platform.box, cam, "TB")
    service = asyncio.create_task(camera_service(platform))
    try:
        await wait_until(
            lambda: platform.writer is not None and platform.writer.snapshot().get("spool_points", 0) >= 3,
            20,
            "the first cycle's 3 points in the writer's spool",
        )
    finally:
        service.cancel()
        await asyncio.gather(service, return_exceptions=True)
    # camera_health, collector_poll and collector_cycle of the first cycle, spooled (no InfluxDB here)
    assert platform.writer is not None and platform.writer.snapshot()["spool_points"] == 3
