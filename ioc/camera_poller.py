"""The ``cameras`` service of ``ioc serve``: ``camera_health`` of every ONVIF device in the registry.

Each cycle asks every camera for its clock, profiles and stream URI (ONVIF, with its credential) and
DESCRIBEs the stream (RTSP); the points go through the process's telemetry writer.
"""

from __future__ import annotations

from ioc.registry_poller import RegistryPoller
from ioc.runtime import Platform
from telemetry.collectors.camera import CameraHealthCollector
from telemetry.cycle import CycleRunner
from telemetry.sink import Sink

ONVIF_CALLS_PER_CYCLE = 4
"""GetSystemDateAndTime, GetServices, GetProfiles, GetStreamUri: each bounded by ``call_timeout_s``."""


class CameraPoller(RegistryPoller):
    def __init__(self, platform: Platform, sink: Sink) -> None:
        cfg = platform.settings.onvif
        self.collector = CameraHealthCollector(
            call_timeout_s=cfg.call_timeout_s, rtsp_timeout_s=cfg.rtsp_timeout_s
        )
        runner = CycleRunner(
            self.collector,
            sink,
            concurrency=cfg.poll_concurrency,
            device_timeout=cfg.call_timeout_s * ONVIF_CALLS_PER_CYCLE + cfg.rtsp_timeout_s,
            # each camera is its own host: no shared agent to overload, so the SNMP lane limits
            # (8 suspects, one retry per cycle) would only slow the cycle down
            suspect_concurrency=256,
            retry_timeouts=False,
        )
        super().__init__(platform, "onvif", runner, cfg.allowed_networks)


async def camera_service(platform: Platform) -> None:
    """Runs until cancelled, writing through the process's telemetry writer."""
    writer = platform.writer or await platform.start_writer()
    await CameraPoller(platform, writer).run_forever(platform.settings.onvif.poll_interval_s)
