"""Simulated ONVIF cameras and GStreamer's RTSP server, shared by the ONVIF, monitors and service tests
(fixtures ``fleet`` and ``rtsp_server`` in tests/conftest.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.models import Device
from provisioning.onvif.onboard import onboard_onvif
from simulators.onvif_camera import CameraConfig, CameraFleet
from simulators.onvif_camera.device import SimulatedCamera
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

PASSWORD = SecretStr("admin123")
RTSP_USER = "viewer"
RTSP_PASSWORD = "rtsp-Secret-42"
GST_RTSP_SERVER = Path(__file__).resolve().parents[2] / "simulators" / "onvif_camera" / "gst_rtsp_server.py"
GST_PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good"


class Fleet:
    """``cam = await fleet(h265_only=True)``: one simulated camera per call; ``stop_all()`` at the end."""

    def __init__(self) -> None:
        self.started: list[CameraFleet] = []

    async def __call__(self, **settings: object) -> SimulatedCamera:
        running = await CameraFleet([CameraConfig(**settings)]).start()  # type: ignore[arg-type]
        self.started.append(running)
        return running.cameras[0]

    async def stop_all(self) -> None:
        for running in self.started:
            await running.stop()


@dataclass(frozen=True)
class RtspServer:
    port: int
    url: str
    process: ManagedProcess


def start_rtsp_server(folder: Path, *, basic: bool = False) -> RtspServer:
    """GStreamer's RTSP server (Debian packages) with Digest auth (``basic``: Basic only), serving a
    live MJPEG test pattern."""
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
    server = ManagedProcess(
        [
            python,
            str(GST_RTSP_SERVER),
            "--port",
            str(port),
            "--user",
            RTSP_USER,
            "--password",
            RTSP_PASSWORD,
            *(["--basic"] if basic else []),
        ],
        log_path=folder / "gst-rtsp-server.log",
        ready=lambda: wait_for_tcp(port),
        cwd=folder,
    ).start()
    return RtspServer(port, f"rtsp://127.0.0.1:{port}/stream", server)


async def onboard_camera(
    session: AsyncSession, box: SecretBox, cam: SimulatedCamera, site: str, name: str | None = None
) -> int:
    """Onboard a simulated camera the way an operator would (``ioc onboard onvif``); its device id."""
    result = await onboard_onvif(
        session,
        Principal.system("test-admin"),
        box,
        host="127.0.0.1",
        port=cam.port,
        username=cam.config.username,
        password=SecretStr(cam.config.password),
        site=site,
        name=name,
    )
    return result.device_id


@dataclass(frozen=True)
class Registry:
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox


async def onboarded_attributes(reg: Registry, cam: SimulatedCamera) -> dict[str, Any]:
    """``ioc onboard onvif`` for ``cam`` at site ``A``; the attributes it stored on the device."""
    async with reg.sessions() as session, session.begin():
        device_id = await onboard_camera(session, reg.box, cam, "A")
    async with reg.sessions() as session:
        device = await session.get(Device, device_id)
        assert device is not None
        return dict(device.attributes)
