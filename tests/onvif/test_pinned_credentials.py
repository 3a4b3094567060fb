"""The attacks: a camera that reports someone else's address, and an RTSP server that asks for Basic.

A listener that records every credential it receives stands at the address the camera reports
(another loopback port, or another loopback host). Probing, onboarding, the monitors' ONVIF and
RTSP checks and the camera_health collector all run against the camera: the listener must receive
nothing, not even a connection.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.onvif import OnvifCheck
from monitors.checks.rtsp import RtspDescribeCheck
from provisioning.onvif.client import DeviceClockReader
from provisioning.onvif.models import OnvifFacts
from provisioning.onvif.probe import probe_onvif
from telemetry.collectors.camera import CameraFailed, CameraHealthCollector
from tests.support.onvif import (
    RTSP_PASSWORD,
    RTSP_USER,
    Fleet,
    Registry,
    RtspServer,
    onboarded_attributes,
    start_rtsp_server,
)
from tests.support.recorder import Recorder


@pytest.fixture
async def harvesters() -> AsyncIterator[tuple[Recorder, Recorder, Recorder]]:
    """Listeners on another port of our host, on another host, and an RTSP one on a third host."""
    started = [
        await Recorder("127.0.0.1").start(),
        await Recorder("127.0.0.3").start(),
        await Recorder("127.0.0.2").start(),
    ]
    try:
        yield started[0], started[1], started[2]
    finally:
        for recorder in started:
            await recorder.stop()


BASIC_ALLOWED = {"onvif": OnvifFacts(rtsp_basic_auth=True).model_dump(mode="json")}
"""A camera onboarded with ``--allow-rtsp-basic`` and nothing else stored."""


def camera_target(port: int, attributes: dict, password: str = RTSP_PASSWORD) -> DeviceTarget:
    credential = UsernamePasswordCredential(username=RTSP_USER, password=SecretStr(password))
    return DeviceTarget(
        5, "cam", "camera", "127.0.0.1", port, ("P",), ("onvif",), credential, attributes=attributes
    )


@pytest.mark.parametrize("elsewhere", ["other_port", "other_host"])
async def test_camera_reporting_a_harvester_address_never_gets_our_credentials_sent_there(
    fleet: Fleet, registry: Registry, harvesters: tuple[Recorder, Recorder, Recorder], elsewhere: str
) -> None:
    same_host, other_host, rtsp = harvesters
    xaddr_harvester = same_host if elsewhere == "other_port" else other_host
    cam = await fleet(
        auth_everything=True,  # so even the clock check has to log in
        http_digest="MD5",
        username=RTSP_USER,
        password=RTSP_PASSWORD,
        reported_host=xaddr_harvester.host,
        reported_port=xaddr_harvester.port,
        rtsp_url=f"rtsp://{rtsp.host}:{rtsp.port}/stream",
    )
    result = await probe_onvif("127.0.0.1", cam.port, RTSP_USER, SecretStr(RTSP_PASSWORD))
    assert result.profiles[0].stream_uri == f"rtsp://127.0.0.1:{rtsp.port}/stream"
    stored = await onboarded_attributes(registry, cam)

    # The stored addresses edited to point at the harvesters: each use pins them again.
    tampered = {
        "onvif": {
            **stored["onvif"],
            "device_service_url": f"http://{xaddr_harvester.host}:{xaddr_harvester.port}/onvif/device_service",
            "profiles": [
                {
                    "token": "p1",
                    "stream_uri": f"rtsp://{RTSP_USER}:{RTSP_PASSWORD}@{rtsp.host}:{rtsp.port}/stream",
                }
            ],
        }
    }
    reader = DeviceClockReader(timeout=3)
    try:
        for attributes in (stored, tampered):
            target = camera_target(cam.port, attributes)
            onvif = await OnvifCheck(reader).run(target)
            assert onvif.ok and onvif.reason.startswith("clock "), onvif
            await RtspDescribeCheck(timeout_s=2).run(target)
            with pytest.raises(CameraFailed) as failed:  # the pinned stream address has no server
                await CameraHealthCollector(call_timeout_s=3, rtsp_timeout_s=2).collect(target)
            assert (failed.value.fields["onvif_up"], failed.value.fields["rtsp_error"]) == (1, "unreachable")
    finally:
        await reader.close()

    for harvester in harvesters:
        assert (harvester.connections, harvester.credentials_seen) == (0, []), harvester.host
    assert {e.host_header for e in cam.access_log} == {f"127.0.0.1:{cam.port}"}


@pytest.fixture(scope="module")
def basic_only_rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    server = start_rtsp_server(tmp_path_factory.mktemp("rtsp-basic"), basic=True)
    try:
        yield server
    finally:
        server.process.stop()


async def test_rtsp_basic_gets_no_password_unless_the_device_allows_it(
    basic_only_rtsp: RtspServer,
) -> None:
    recorder = await Recorder("127.0.0.1", challenge='Basic realm="cam"').start()
    try:
        url = f"rtsp://127.0.0.1:{recorder.port}/stream"
        refused = await RtspDescribeCheck(url, timeout_s=2).run(camera_target(554, {}))
        assert (refused.ok, refused.error_kind) == (False, "auth_failed")
        assert "only Basic" in refused.reason and RTSP_PASSWORD not in refused.reason
        assert recorder.requests and recorder.credentials_seen == []

        allowed = await RtspDescribeCheck(url, timeout_s=2).run(camera_target(554, BASIC_ALLOWED))
        assert not allowed.ok
        expected = "Basic " + base64.b64encode(f"{RTSP_USER}:{RTSP_PASSWORD}".encode()).decode()
        assert recorder.credentials_seen and set(recorder.credentials_seen) == {expected}
    finally:
        await recorder.stop()

    # GStreamer's RTSP server offering Basic only: refused by default, streams once allowed.
    real = RtspDescribeCheck(basic_only_rtsp.url, timeout_s=5)
    assert (await real.run(camera_target(554, {}))).error_kind == "auth_failed"
    up = await real.run(camera_target(554, BASIC_ALLOWED))
    assert up.ok and "video" in up.reason, up
