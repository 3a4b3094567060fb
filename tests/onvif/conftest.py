"""Fixtures for the ONVIF area: an in-process simulated fleet on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from simulators.onvif_camera import CameraConfig, CameraFleet
from simulators.onvif_camera.device import SimulatedCamera

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
