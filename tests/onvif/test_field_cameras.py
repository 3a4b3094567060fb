"""Cameras as the field has them: a bare Profile S core, a login for everything, HTTP Digest, NAT.

Each is a simulated camera speaking real SOAP; each is probed, onboarded and checked by the monitors
the way an engineer would, and the camera's access log shows every request arrived at the address
it was registered at, under that name (the Host header is the URL we used).
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from monitors.checks.onvif import OnvifCheck
from provisioning.errors import AuthFailed, DeviceUnreachable
from provisioning.onvif.client import NS_MEDIA2, DeviceClockReader, OnvifClient
from provisioning.onvif.errors import ClockSkew
from provisioning.onvif.probe import ProbeResult, probe_onvif
from simulators.onvif_camera.device import SimulatedCamera
from telemetry.collectors.camera import CameraHealthCollector
from tests.support.onvif import (
    PASSWORD,
    RTSP_PASSWORD,
    RTSP_USER,
    Fleet,
    Registry,
    RtspServer,
    onboarded_attributes,
)
from tests.support.recorder import Recorder, nothing_listens

NAT_HOST = "127.87.0.64"
"""What a NAT camera reports: a loopback address nothing listens on, so a request there could only
fail (and never leave the machine)."""


def target(cam: SimulatedCamera, password: str | None = "", attributes: dict | None = None) -> DeviceTarget:
    """The camera as the monitors see it; ``password=None``: no credential stored."""
    credential = None
    if password is not None:
        credential = UsernamePasswordCredential(
            username=cam.config.username, password=SecretStr(password or cam.config.password)
        )
    return DeviceTarget(
        9, "cam", "camera", "127.0.0.1", cam.port, ("P",), ("onvif",), credential, attributes=attributes or {}
    )


async def check(t: DeviceTarget) -> CheckResult:
    reader = DeviceClockReader(timeout=3)
    try:
        return await OnvifCheck(reader).run(t)
    finally:
        await reader.close()


def assert_only_registered_address(cam: SimulatedCamera) -> None:
    assert cam.access_log, "the camera was asked"
    assert {(e.local_host, e.local_port, e.host_header) for e in cam.access_log} == {
        ("127.0.0.1", cam.port, f"127.0.0.1:{cam.port}")
    }


def assert_clock(result: CheckResult, offset_s: float) -> None:
    assert result.ok and result.error_kind is None, result
    assert result.reason.startswith("clock "), result.reason
    assert float(result.reason.removeprefix("clock ").removesuffix("s")) == pytest.approx(offset_s, abs=1.5)


async def test_minimal_profile_s_nvr_is_probed_onboarded_and_monitored_with_notes(
    fleet: Fleet, registry: Registry
) -> None:
    cam = await fleet(minimal=True, channels=2, clock_offset_s=20)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.device.manufacturer == "SimCam" and result.media_service == "media"
    assert result.services == ["device", "media"]
    assert [p.stream_uri for p in result.profiles][:2] == [
        "rtsp://127.0.0.1:554/Streaming/Channel1_MainStream",
        "rtsp://127.0.0.1:554/Streaming/Channel1_SubStream",
    ]
    assert {p.snapshot_uri for p in result.profiles} == {None}
    # No GetVideoSources: channels come from the profiles' video source tokens.
    assert [c.video_source_token for c in result.channels] == ["VideoSource_1", "VideoSource_2"]
    assert result.is_nvr
    assert [note.split(" not supported")[0] for note in result.notes if " not supported" in note] == [
        "GetServices",
        "GetCapabilities",
        "GetSnapshotUri",
        "GetVideoSources",
    ]
    assert "device offers no Media2 service: profiles read from Media1 (no H.265)" in result.notes
    assert set(result.to_dict()) == set(_plain_probe_keys())

    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD) as client:
        assert await client.network_interfaces() == [] and await client.ntp_servers() == []
        assert [n.split(" not")[0] for n in client.notes[-2:]] == ["GetNetworkInterfaces", "GetNTP"]
        client.xaddrs[NS_MEDIA2] = client.device_url  # as if it had advertised Media2 anyway
        assert len(await client.list_profiles()) == 4 and not client.has_media2
        assert client.notes[-1] == "Media2 GetProfiles not supported: profiles read from Media1"

    stored = await onboarded_attributes(registry, cam)
    assert stored["onvif"]["notes"] == result.notes
    assert len(stored["onvif"]["channels"]) == 2 and len(stored["onvif"]["profiles"]) == 4
    assert_clock(await check(target(cam, attributes=stored)), 20)
    assert_only_registered_address(cam)


def _plain_probe_keys() -> list[str]:
    return [
        "host",
        "port",
        "manufacturer",
        "model",
        "firmware",
        "serial",
        "hardware_id",
        "clock_offset_s",
        "services",
        "media_service",
        "is_nvr",
        "profiles",
        "channels",
        "notes",
        "probe_ms",
    ]


async def test_camera_demanding_a_login_for_everything_is_up_and_still_tells_its_clock(
    fleet: Fleet, registry: Registry
) -> None:
    cam = await fleet(auth_everything=True, clock_offset_s=-40)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.clock_offset_s == pytest.approx(-40, abs=1.5)
    stored = await onboarded_attributes(registry, cam)
    assert stored["onvif"]["device_service_url"] == f"http://127.0.0.1:{cam.port}/onvif/device_service"

    assert_clock(await check(target(cam, attributes=stored)), -40)
    elsewhere = {"onvif": {**stored["onvif"], "device_service_url": f"http://{NAT_HOST}/onvif/services"}}
    assert_clock(await check(target(cam, attributes=elsewhere)), -40)
    assert cam.access_log[-1].path == "/onvif/services", "asked at the stored path, on the registered host"
    anonymous = await check(target(cam, password=None, attributes=stored))
    assert (anonymous.ok, anonymous.reason, anonymous.error_kind) == (True, "login required; no clock", None)
    wrong = await check(target(cam, password="stale-password", attributes=stored))
    assert (wrong.ok, wrong.error_kind) == (True, "auth_failed")
    assert wrong.reason.startswith("auth_failed") and "stale-password" not in wrong.reason
    assert_only_registered_address(cam)


@pytest.mark.parametrize(
    ("algorithm", "ws_security"), [("MD5", False), ("SHA-256", False), ("SHA-256", True)]
)
async def test_http_digest_in_front_of_soap(
    fleet: Fleet, registry: Registry, algorithm: str, ws_security: bool
) -> None:
    cam = await fleet(http_digest=algorithm, ws_security=ws_security, clock_offset_s=12)
    result: ProbeResult = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.device.model == "IPC-2000" and len(result.profiles) == 2
    assert result.clock_offset_s == pytest.approx(12, abs=1.5)
    stored = await onboarded_attributes(registry, cam)
    assert_clock(await check(target(cam, attributes=stored)), 12)
    wrong = await check(target(cam, password="guess", attributes=stored))
    assert (wrong.ok, wrong.error_kind) == (True, "auth_failed")
    refused = [e for e in cam.access_log if e.status == 401]
    assert refused and all(e.status in (200, 401) for e in cam.access_log)
    assert_only_registered_address(cam)


async def test_camera_behind_nat_is_reached_at_its_registered_address(
    fleet: Fleet, registry: Registry, rtsp_server: RtspServer
) -> None:
    cam = await fleet(
        reported_host=NAT_HOST,
        reported_port=80,
        username=RTSP_USER,
        password=RTSP_PASSWORD,
        rtsp_url=f"rtsp://{{host}}:{rtsp_server.port}/stream",
        clock_offset_s=7,
    )
    assert await nothing_listens(NAT_HOST, 80) and await nothing_listens(NAT_HOST, rtsp_server.port)
    password = SecretStr(RTSP_PASSWORD)
    result = await probe_onvif("127.0.0.1", cam.port, RTSP_USER, password)
    main = result.profiles[0]
    assert main.stream_uri == f"rtsp://127.0.0.1:{rtsp_server.port}/stream"  # host pinned, RTSP port kept
    assert main.snapshot_uri == f"http://127.0.0.1:{cam.port}/onvif/snapshot/MainStream.jpg"  # 80 → ours

    with pytest.raises(DeviceUnreachable):  # the opt-out really uses what the camera reports
        await probe_onvif(
            "127.0.0.1", cam.port, RTSP_USER, password, call_timeout_s=2, keep_reported_addresses=True
        )

    stored = await onboarded_attributes(registry, cam)
    assert stored["onvif"]["profiles"][0]["stream_uri"] == main.stream_uri
    assert NAT_HOST not in str(stored)
    assert_clock(await check(target(cam, attributes=stored)), 7)
    [point] = await CameraHealthCollector(call_timeout_s=3, rtsp_timeout_s=5).collect(
        target(cam, attributes=stored)
    )
    assert (point.fields["onvif_up"], point.fields["rtsp_up"]) == (1, 1)
    assert_only_registered_address(cam)


async def test_digest_challenge_we_cannot_answer_is_a_login_problem_not_an_outage() -> None:
    device = await Recorder("127.0.0.1", 'Digest realm="cam", nonce="n1", algorithm=SHA-512-256').start()
    try:
        with pytest.raises(AuthFailed, match="HTTP Digest challenge not usable"):
            await probe_onvif("127.0.0.1", device.port, "admin", PASSWORD, call_timeout_s=2)
        t = DeviceTarget(9, "cam", "camera", "127.0.0.1", device.port, credential=target_credential())
        result = await check(t)
        assert (result.ok, result.error_kind) == (True, "auth_failed")
    finally:
        await device.stop()


def target_credential() -> UsernamePasswordCredential:
    return UsernamePasswordCredential(username="admin", password=PASSWORD)


async def test_camera_hiding_a_far_off_clock_behind_its_login_is_read_on_its_http_date(
    fleet: Fleet,
) -> None:
    cam = await fleet(auth_everything=True, clock_offset_s=2 * 3600)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.clock_offset_s == pytest.approx(7200, abs=1.5)
    assert any("HTTP Date header" in note for note in result.notes)
    assert_clock(await check(target(cam)), 7200)
    with pytest.raises(ClockSkew, match=r"off by \+(7199|7200|7201) s"):
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD, adjust_time=False)
    wrong = await check(target(cam, password="not-it"))
    assert (wrong.ok, wrong.error_kind) == (True, "auth_failed")
