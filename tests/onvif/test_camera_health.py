"""camera_health points from a simulated camera whose stream lives on GStreamer's RTSP server."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from pydantic import SecretStr

from device_registry import log_once
from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from provisioning import facts
from provisioning.onvif.models import OnvifFacts
from telemetry import metrics
from telemetry.collectors.camera import MEASUREMENT, CameraHealthCollector
from telemetry.cycle import SELF_CYCLE, SELF_POLL, CycleRunner
from telemetry.line_protocol import encode_point
from tests.mqtt.sinks import RecordingSink
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


def _cycle_logs(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "telemetry.cycle" and word in r.getMessage()]


def _runner(sink: RecordingSink, *, rtsp_timeout_s: float = 5.0) -> CycleRunner:
    return CycleRunner(CameraHealthCollector(rtsp_timeout_s=rtsp_timeout_s), sink, retry_timeouts=False)


def _health(sink: RecordingSink) -> dict[str, object]:
    """The fields of the last camera_health point."""
    return dict([p for p in sink.points if p.measurement == MEASUREMENT][-1].fields)


async def test_dead_stream_and_dead_camera_fail_the_poll_and_still_write_their_point(fleet, caplog):
    cam = await fleet(
        username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"rtsp://127.0.0.1:{free_port()}/x"
    )
    sink = RecordingSink()
    runner = _runner(sink, rtsp_timeout_s=2)
    caplog.set_level(logging.WARNING)
    for _ in range(2):
        summary = await runner.run_once([_target(cam.port)])
        assert (summary.ok, summary.failed) == (0, 1) and summary.failures[4711].startswith(
            "RTSP rtsp://127.0.0.1:"
        )
        health = _health(sink)
        assert (health["onvif_up"], health["rtsp_up"], health["rtsp_error"]) == (1, 0, "unreachable")
        assert "onvif_error" not in health and "clock_offset_s" in health
    assert len(_cycle_logs(caplog, "DOWN")) == 1  # logged once, by the runner, not every cycle
    poll = [p for p in sink.points if p.measurement == SELF_POLL][-1]
    assert (poll.fields["up"], poll.fields["error_kind"]) == (0, "unreachable")

    await runner.run_once([_target(free_port())])  # nothing listens on the ONVIF port
    health = _health(sink)
    assert (health["onvif_up"], health["rtsp_up"], health["onvif_error"]) == (0, 0, "unreachable")
    assert "clock_offset_s" not in health and "rtsp_error" not in health


async def test_wrong_password_fails_once_in_the_log_reads_like_the_monitors_and_recovers_once(
    fleet, rtsp_server, caplog
):
    """A refused login is an answer: ``onvif_up=1 onvif_error=auth_failed``, as the ONVIF check's
    up with ``auth_failed``; the runner sees the poll fail, says so once, and once when it is fixed."""
    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"{rtsp_server.url}?t={{token}}")
    sink = RecordingSink()
    runner = _runner(sink, rtsp_timeout_s=20)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        summary = await runner.run_once([_target(cam.port, password="guessed-wrong")])
        assert (summary.ok, summary.failed) == (0, 1)
        health = _health(sink)
        assert (health["onvif_up"], health["rtsp_up"], health["onvif_error"]) == (1, 0, "auth_failed")
        assert float(health["probe_ms"]) > 0  # type: ignore[arg-type]
        assert (
            sink.points[-2].measurement == SELF_POLL and sink.points[-2].fields["error_kind"] == "auth_failed"
        )
    [down] = _cycle_logs(caplog, "DOWN")
    assert down.startswith("device 4711 (Ngã tư Lê Lợi) DOWN: auth_failed: ONVIF 127.0.0.1:")

    for _ in range(2):
        summary = await runner.run_once([_target(cam.port)])
        assert (summary.ok, summary.failed) == (1, 0)
        health = _health(sink)
        assert (health["onvif_up"], health["rtsp_up"]) == (1, 1)
        assert "onvif_error" not in health and "rtsp_error" not in health
    assert len(_cycle_logs(caplog, "UP again")) == 1 and len(_cycle_logs(caplog, "DOWN")) == 1
    assert "guessed-wrong" not in caplog.text

    device_up = 'ioc_device_up{collector="camera_health",device_id="4711"}'
    assert device_up in metrics.render()[0].decode()
    await runner.run_once([])  # the camera left the registry: the contract's default forget runs
    assert device_up not in metrics.render()[0].decode()
    assert [p.measurement for p in sink.points[-1:]] == [SELF_CYCLE]


async def test_a_broken_stored_record_neither_stops_the_other_cameras_nor_repeats_in_the_log(
    fleet, rtsp_server, caplog, monkeypatch
):
    """The collector reads stored facts like the monitors: a record that does not validate is logged
    once and read as none, so its camera is polled at the default, pinned device service address."""
    monkeypatch.setattr(log_once, "_logged", set())
    cam = await fleet(username=RTSP_USER, password=RTSP_PASSWORD, rtsp_url=f"{rtsp_server.url}?t={{token}}")
    good = OnvifFacts(device_service_url=f"http://10.9.9.9:{cam.port}/onvif/device_service")  # pinned on use
    targets = [
        replace(_target(cam.port), device_id=1, attributes={"onvif": good.model_dump(mode="json")}),
        replace(_target(cam.port), device_id=2, attributes={"onvif": {"version": 9}}),
        replace(_target(cam.port), device_id=3),
    ]
    sink = RecordingSink()
    runner = _runner(sink, rtsp_timeout_s=20)
    caplog.set_level(logging.ERROR, logger=facts.__name__)
    for _ in range(2):
        summary = await runner.run_once(targets)
        assert (summary.ok, summary.failed) == (3, 0), summary.failures
    assert [r.getMessage() for r in caplog.records if r.name == facts.__name__] == [
        "device 2: stored onvif facts ignored, they do not validate: "
        "attributes['onvif']: version 9, this release reads version 1"
    ]
