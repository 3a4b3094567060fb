"""Probing every simulator variant: what an engineer sees for each kind of camera in the field."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from provisioning.errors import AuthFailed, DeviceTimeout, DeviceUnreachable, MalformedResponse
from provisioning.onvif.client import OnvifClient
from provisioning.onvif.errors import ClockSkew
from provisioning.onvif.probe import probe_onvif
from tests.support.onvif import PASSWORD
from tests.support.process import free_port


async def test_plain_camera_reports_identity_services_and_media2_profiles(fleet):
    cam = await fleet(manufacturer="Hikvision", model="DS-2CD2143G2", serial="SN123", hardware_id="88")
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    data = result.to_dict()
    assert (data["manufacturer"], data["model"], data["serial"], data["hardware_id"]) == (
        "Hikvision",
        "DS-2CD2143G2",
        "SN123",
        "88",
    )
    assert data["firmware"] == "V5.6.3 build 210315"
    assert data["services"] == ["device", "media", "media2"]
    assert data["media_service"] == "media2"
    assert abs(data["clock_offset_s"]) <= 0.6
    main, sub = data["profiles"]
    assert main == {
        "token": "MainStream",
        "name": "mainStream",
        "encoding": "H264",
        "resolution": "1920x1080",
        "fps": 25.0,
        "video_source_token": "VideoSource_1",
        "stream_uri": "rtsp://127.0.0.1:554/Streaming/MainStream",
        "snapshot_uri": f"http://127.0.0.1:{cam.port}/onvif/snapshot/MainStream.jpg",
    }
    assert (sub["resolution"], sub["fps"]) == ("640x360", 15.0)
    assert data["notes"] == []
    assert not data["is_nvr"]


async def test_h265_only_camera_shows_h265_through_media2(fleet):
    cam = await fleet(h265_only=True)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert [p.encoding for p in result.profiles] == ["H265", "H265"]
    # Media1 cannot express H.265: the same camera seen through Media1 has no encoder at all.
    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD) as client:
        media1 = await client._media1_profiles()
    assert [p.encoding for p in media1] == [None, None]


async def test_clock_far_off_is_compensated_and_reported(fleet):
    cam = await fleet(clock_offset_s=-3 * 3600 - 17)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.clock_offset_s == pytest.approx(-3 * 3600 - 17, abs=2)
    assert result.device.manufacturer == "SimCam"


async def test_clock_given_only_as_local_time_with_posix_zone(fleet):
    cam = await fleet(clock_offset_s=1800, utc_in_clock=False)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.clock_offset_s == pytest.approx(1800, abs=2)


async def test_clock_far_off_without_adjustment_is_a_clock_skew_error(fleet):
    cam = await fleet(clock_offset_s=2 * 3600)
    expected = r"authentication failed; device clock is off by \+(7199|7200|7201) s"
    with pytest.raises(ClockSkew, match=expected) as caught:
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD, adjust_time=False)
    assert isinstance(caught.value, AuthFailed) and not caught.value.retryable


async def test_nvr_has_a_channel_per_video_source(fleet):
    cam = await fleet(channels=4, model="NVR4108")
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.is_nvr
    assert [c.video_source_token for c in result.channels] == [f"VideoSource_{i}" for i in range(1, 5)]
    assert [[p.token for p in c.profiles] for c in result.channels][2] == [
        "Channel3_MainStream",
        "Channel3_SubStream",
    ]
    assert len(result.profiles) == 8


@pytest.mark.parametrize("answer", ["fault", "http401"])
async def test_wrong_password_says_authentication_failed(fleet, answer):
    cam = await fleet(wrong_password=answer)
    with pytest.raises(AuthFailed) as caught:
        await probe_onvif("127.0.0.1", cam.port, "admin", SecretStr("not-the-password"))
    assert str(caught.value).endswith("authentication failed")
    assert "not-the-password" not in str(caught.value)
    assert not caught.value.retryable
    assert type(caught.value) is AuthFailed


async def test_media1_only_camera_is_probed_with_a_note(fleet):
    cam = await fleet(media1_only=True)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.media_service == "media"
    assert "media2" not in result.services
    assert [p.encoding for p in result.profiles] == ["H264", "H264"]
    assert result.profiles[0].stream_uri == "rtsp://127.0.0.1:554/Streaming/MainStream"
    assert any("no Media2" in note for note in result.notes)


async def test_old_firmware_without_getservices_falls_back_to_getcapabilities(fleet):
    cam = await fleet(get_services=False)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert result.services == ["device", "media"]
    assert result.media_service == "media" and len(result.profiles) == 2


async def test_camera_without_snapshot_is_probed_with_a_note(fleet):
    cam = await fleet(no_snapshot=True)
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert [p.snapshot_uri for p in result.profiles] == [None, None]
    assert all(p.stream_uri for p in result.profiles)
    assert result.notes == ["GetSnapshotUri not supported: device offers no snapshot URI"]


async def test_slow_camera_times_out_as_retryable(fleet):
    cam = await fleet(slow_s=0.5)
    with pytest.raises(DeviceTimeout) as caught:
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD, call_timeout_s=0.2)
    assert caught.value.retryable
    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD, timeout=3) as client:
        assert (await client.device_info()).model == "IPC-2000"


async def test_nothing_listening_is_unreachable():
    with pytest.raises(DeviceUnreachable) as caught:
        await probe_onvif("127.0.0.1", free_port(), "admin", PASSWORD, call_timeout_s=2)
    assert caught.value.retryable


@pytest.mark.parametrize("broken", ["truncated", "not_xml", "external_entity"])
async def test_malformed_answer_is_a_typed_error(fleet, broken):
    cam = await fleet(broken=broken)
    with pytest.raises(MalformedResponse) as caught:
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert "GetDeviceInformation" in str(caught.value)
    assert not caught.value.retryable


async def test_xml_bomb_is_refused_not_expanded(fleet):
    cam = await fleet(broken="bomb")
    started = time.perf_counter()
    with pytest.raises(MalformedResponse, match="nothing expanded"):
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    # A billion laughs expanded would be ~3 GB of "lol"; refusing it is instant.
    assert time.perf_counter() - started < 5


async def test_set_ntp_points_the_camera_at_our_server(fleet):
    cam = await fleet()
    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD) as client:
        await client.set_ntp("ntp.ioc.example.vn")
        assert await client.ntp_servers() == ["ntp.ioc.example.vn"]
    assert cam.ntp_servers == ["ntp.ioc.example.vn"]


async def test_network_interfaces_report_the_mac(fleet):
    cam = await fleet(mac="00:1A:2B:3C:4D:5E")
    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD) as client:
        [eth0] = await client.network_interfaces()
    assert (eth0.token, eth0.mac, eth0.enabled, eth0.ipv4) == (
        "eth0",
        "00:1a:2b:3c:4d:5e",
        True,
        ("127.0.0.1",),
    )


async def test_syncing_a_drifted_clock(fleet):
    cam = await fleet(clock_offset_s=-5000)
    async with OnvifClient("127.0.0.1", cam.port, "admin", PASSWORD) as client:
        assert client.clock_offset_s == pytest.approx(-5000, abs=2)
        await client.sync_device_clock()
        assert client.clock_offset_s is not None and abs(client.clock_offset_s) < 2
        assert (await client.device_info()).manufacturer == "SimCam"  # still authenticates
    assert abs(cam.clock_offset.total_seconds()) < 2
