"""camera_health points from a simulated camera whose stream lives on GStreamer's RTSP server."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from telemetry.collectors.camera import CameraHealthCollector
from telemetry.line_protocol import encode_point
from tests.support.onvif import RTSP_PASSWORD, RTSP_USER
from tests.support.process import free_port


def _target(port: int, password: str = RTSP_PASSWORD) -> DeviceTarget:
    return DeviceTarget(
        device_id=4711,
        name="Ngã tư Lê Lợi",
        kind="camera",
        address="127.0.0.1",
        port=port,
        site_codes=("34", "34.D1", "34.D1.C7"),
        site_kinds=("province", "district", "ward"),
        protocols=("onvif",),
        credential=UsernamePasswordCredential(username=RTSP_USER, password=SecretStr(password)),
    )


async def test_healthy_camera_reports_up_with_clock_offset(fleet, rtsp_server):
    cam = await fleet(
        username=RTSP_USER,
        password=RTSP_PASSWORD,
        clock_offset_s=95,
        rtsp_url=f"{rtsp_server.url}?t={{token}}",
    )
    [point] = await CameraHealthCollector(rtsp_timeout_s=20).collect(_target(cam.port))
    assert point.measurement == "camera_health"
    assert point.tags == {
        "device_id": "4711",
        "device": "Ngã tư Lê Lợi",
        "kind": "camera",
        "province": "34",
        "district": "34.D1",
        "commune": "34.D1.C7",
        "site": "34.D1.C7",
    }
    assert point.fields["onvif_up"] == 1
    assert point.fields["rtsp_up"] == 1
    assert point.fields["clock_offset_s"] == pytest.approx(95, abs=2)
    assert isinstance(point.fields["probe_ms"], float) and point.fields["probe_ms"] > 0
    line = encode_point(point)  # what the telemetry writer will send
    assert line.startswith(
        r"camera_health,commune=34.D1.C7,device=Ngã\ tư\ Lê\ Lợi,device_id=4711,district=34.D1,"
        "kind=camera,province=34,site=34.D1.C7 "
    )
    assert "onvif_up=1i" in line and "rtsp_up=1i" in line


async def test_dead_stream_and_dead_camera_are_points_not_exceptions(fleet, caplog):
    cam = await fleet(
        username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"rtsp://127.0.0.1:{free_port()}/x"
    )
    collector = CameraHealthCollector(rtsp_timeout_s=2)
    caplog.set_level(logging.WARNING, logger="telemetry.collectors.camera")
    [point] = await collector.collect(_target(cam.port))
    assert (point.fields["onvif_up"], point.fields["rtsp_up"]) == (1, 0)
    await collector.collect(_target(cam.port))
    assert len([r for r in caplog.records if "DOWN" in r.message]) == 1  # logged once, not every cycle

    [point] = await collector.collect(_target(free_port()))
    assert (point.fields["onvif_up"], point.fields["rtsp_up"]) == (0, 0)
    assert "clock_offset_s" not in point.fields


async def test_wrong_password_is_onvif_down_and_never_logged(fleet, caplog):
    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD)
    caplog.set_level(logging.WARNING, logger="telemetry.collectors.camera")
    [point] = await CameraHealthCollector().collect(_target(cam.port, password="guessed-wrong"))
    assert point.fields["onvif_up"] == 0
    assert "auth_failed" in caplog.text and "guessed-wrong" not in caplog.text
