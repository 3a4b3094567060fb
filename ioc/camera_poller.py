"""The ``cameras`` service of ``ioc serve``: ``camera_health`` of every ONVIF device in the registry.

Each cycle asks every camera for its clock, profiles and stream URI (ONVIF, with its credential) and
DESCRIBEs the stream (RTSP); the points go through the process's telemetry writer.
"""

from __future__ import annotations

from ioc.runtime import Platform
from telemetry.collectors.camera import CameraHealthCollector
from telemetry.cycle import CycleRunner
from telemetry.registry_poller import RegistryPoller
from telemetry.sink import Sink


def camera_poller(platform: Platform, sink: Sink) -> RegistryPoller:
    cfg = platform.settings.onvif
    collector = CameraHealthCollector(call_timeout_s=cfg.call_timeout_s, rtsp_timeout_s=cfg.rtsp_timeout_s)
    runner = CycleRunner(
        collector,
        sink,
        concurrency=cfg.poll_concurrency,
        # a backstop: each part stops at its own bound first, so the point can say which one failed
        device_timeout=collector.deadline_s + 1.0,
        # each camera is its own host: no shared agent to overload, so the SNMP lane limits
        # (8 suspects, one retry per cycle) would only slow the cycle down
        suspect_concurrency=256,
        retry_timeouts=False,
    )
    return RegistryPoller(
        platform.sessions, platform.box, "onvif", runner, allowed_networks=cfg.allowed_networks
    )


async def camera_service(platform: Platform) -> None:
    """Runs until cancelled, writing through the process's telemetry writer."""
    writer = platform.writer or await platform.start_writer()
    await camera_poller(platform, writer).run_forever(platform.settings.onvif.poll_interval_s)
