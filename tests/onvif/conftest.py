"""Fixtures for the ONVIF area: an in-process simulated fleet on free loopback ports."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from simulators.onvif_camera import CameraConfig, CameraFleet
from simulators.onvif_camera.device import SimulatedCamera
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

PASSWORD = SecretStr("admin123")


@pytest.fixture
async def fleet() -> AsyncIterator[Callable[..., object]]:
    """``cam = await fleet(h265_only=True)``: starts one simulated camera per call, all stopped at the end."""
    started: list[CameraFleet] = []

    async def start(**settings: object) -> SimulatedCamera:
        running = await CameraFleet([CameraConfig(**settings)]).start()  # type: ignore[arg-type]
        started.append(running)
        return running.cameras[0]

    yield start
    for running in started:
        await running.stop()


RTSP_USER = "viewer"
RTSP_PASSWORD = "rtsp-Secret-42"
GST_RTSP_SERVER = Path(__file__).resolve().parents[2] / "simulators" / "onvif_camera" / "gst_rtsp_server.py"
GST_PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"


@dataclass(frozen=True)
class RtspServer:
    port: int
    url: str


@pytest.fixture(scope="session")
def rtsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """GStreamer's RTSP server (Debian packages) with Digest auth, serving a live MJPEG test pattern."""
    python = require_binary("python3", "python3", search=["/usr/bin"])
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else python
    probe = subprocess.run(
        [
            python,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.fail(
            f"GStreamer RTSP server bindings missing: apt-get install -y {GST_PACKAGES}", pytrace=False
        )
    port = free_port()
    folder = tmp_path_factory.mktemp("rtsp")
    server = ManagedProcess(
        [python, str(GST_RTSP_SERVER), "--port", str(port), "--user", RTSP_USER, "--password", RTSP_PASSWORD],
        log_path=folder / "gst-rtsp-server.log",
        ready=lambda: wait_for_tcp(port),
        cwd=folder,
    ).start()
    try:
        yield RtspServer(port, f"rtsp://127.0.0.1:{port}/stream")
    finally:
        server.stop()
