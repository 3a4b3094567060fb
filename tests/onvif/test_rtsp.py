"""RTSP liveness against GStreamer's real RTSP server with Digest auth."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioning.errors import AuthFailed, DeviceUnreachable
from provisioning.onvif.probe import probe_onvif
from provisioning.rtsp.check import FrameInfo, StreamNotFound, check_rtsp
from tests.support.onvif import PASSWORD, RTSP_PASSWORD, RTSP_USER
from tests.support.process import free_port

SLOW_MACHINE_S = 20.0
"""GStreamer prepares the media pipeline on DESCRIBE; on a loaded CI machine that can take seconds."""


async def test_live_stream_answers_options_and_describe_with_digest(rtsp_server):
    result = await check_rtsp(rtsp_server.url, RTSP_USER, SecretStr(RTSP_PASSWORD), timeout_s=SLOW_MACHINE_S)
    assert result.url == rtsp_server.url
    assert {"OPTIONS", "DESCRIBE", "SETUP", "PLAY"} <= set(result.methods)
    assert result.media == ["video JPEG"]
    assert "GStreamer" in (result.server or "")
    assert result.frame is None


def test_the_servers_password_is_not_on_its_command_line(rtsp_server):
    """Every local user can read a process's argv; the demo's generated password goes by environment."""
    cmdline = Path(f"/proc/{rtsp_server.process.process.pid}/cmdline").read_bytes()
    assert b"--user" in cmdline  # read the server's own command line
    assert RTSP_PASSWORD.encode() not in cmdline


async def test_credentials_in_the_url_work_and_never_show(rtsp_server):
    url = rtsp_server.url.replace("rtsp://", f"rtsp://{RTSP_USER}:{RTSP_PASSWORD}@")
    result = await check_rtsp(url, timeout_s=SLOW_MACHINE_S)
    assert result.url == rtsp_server.url
    assert RTSP_PASSWORD not in repr(result)


async def test_wrong_password_is_authentication_failed(rtsp_server):
    with pytest.raises(AuthFailed, match="authentication failed") as caught:
        await check_rtsp(rtsp_server.url, RTSP_USER, SecretStr("wrong-one"), timeout_s=SLOW_MACHINE_S)
    assert "wrong-one" not in str(caught.value)


async def test_no_credentials_is_authentication_required(rtsp_server):
    with pytest.raises(AuthFailed, match="authentication required"):
        await check_rtsp(rtsp_server.url, timeout_s=SLOW_MACHINE_S)


async def test_unknown_path_is_stream_not_found(rtsp_server):
    with pytest.raises(StreamNotFound):
        await check_rtsp(
            rtsp_server.url.replace("/stream", "/nothing-here"), RTSP_USER, SecretStr(RTSP_PASSWORD)
        )


async def test_one_frame_is_decoded_with_ffprobe(rtsp_server):
    result = await check_rtsp(
        rtsp_server.url, RTSP_USER, SecretStr(RTSP_PASSWORD), grab_frame=True, timeout_s=20
    )
    assert result.frame == FrameInfo("mjpeg", 320, 240)


async def test_closed_port_is_unreachable():
    with pytest.raises(DeviceUnreachable) as caught:
        await check_rtsp(f"rtsp://127.0.0.1:{free_port()}/stream", timeout_s=2)
    assert caught.value.retryable


async def test_stream_uri_from_an_onvif_probe_is_live(fleet, rtsp_server):
    cam = await fleet(rtsp_url=f"rtsp://{{host}}:{rtsp_server.port}/stream")
    result = await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    stream_uri = result.profiles[0].stream_uri
    assert stream_uri == rtsp_server.url
    assert stream_uri is not None
    live = await check_rtsp(stream_uri, RTSP_USER, SecretStr(RTSP_PASSWORD), timeout_s=SLOW_MACHINE_S)
    assert live.media == ["video JPEG"]
