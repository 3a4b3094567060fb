"""Simulated ONVIF cameras and GStreamer's RTSP server, shared by the ONVIF, monitors and service tests
(fixtures ``fleet`` and ``rtsp_server`` in tests/support/fixtures.py)."""

from __future__ import annotations

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
from simulators.onvif_camera.rtsp_process import rtsp_server_process
from simulators.process import ManagedProcess, MissingBinary
from tests.support.process import free_port
from tests.support.waits import wait_until_sync

PASSWORD = SecretStr("admin123")
RTSP_USER = "viewer"
RTSP_PASSWORD = "-rtsp-Secret-42"
"""Starts with ``-``, as a generated one can (``token_urlsafe``): the server must not read it as an option."""


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
    port = free_port()
    try:
        server = rtsp_server_process(
            folder, port, user=RTSP_USER, password=RTSP_PASSWORD, basic=basic
        ).start()
    except MissingBinary as error:
        pytest.fail(str(error), pytrace=False)
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


def wait_simulator_ready(log: Path, within: float = 30.0) -> None:
    """Until the ONVIF simulator process (``python -m simulators.onvif_camera``) printed its ``READY``
    line to ``log``: its listeners are bound from then on."""

    def text() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    wait_until_sync(
        lambda: "READY" in text(), within, "the ONVIF simulator's READY line", detail=lambda: text()[-3000:]
    )
