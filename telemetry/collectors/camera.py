"""``camera_health``: is the camera's ONVIF service up, is its main stream live, how far is its clock.

A down camera is a measurement here, not an exception: the point carries ``onvif_up=0`` or
``rtsp_up=0`` so dashboards see the outage; the reason is logged once when it changes.
"""

from __future__ import annotations

import logging
import time

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from provisioning.errors import DeviceError
from provisioning.onvif.client import OnvifClient
from provisioning.onvif.models import OnvifEndpoint
from provisioning.onvif.stored import StoredCamera
from provisioning.rtsp.check import check_rtsp
from telemetry.points import FieldValue, Point

log = logging.getLogger(__name__)

MEASUREMENT = "camera_health"


class CameraHealthCollector:
    """Collector protocol: ``await collector.collect(target)`` returns one ``camera_health`` point."""

    name = MEASUREMENT

    def __init__(self, *, call_timeout_s: float = 10.0, rtsp_timeout_s: float = 5.0) -> None:
        self.call_timeout_s = call_timeout_s
        self.rtsp_timeout_s = rtsp_timeout_s
        self._last_state: dict[int, str] = {}

    async def collect(self, target: DeviceTarget) -> list[Point]:
        credential = target.credential
        if not isinstance(credential, UsernamePasswordCredential):
            raise ValueError(f"device {target.device_id}: credential must be a user name and password")
        started = time.perf_counter()
        fields: dict[str, FieldValue] = {"onvif_up": 0, "rtsp_up": 0}
        problems: list[str] = []
        stream_uri: str | None = None
        stored = StoredCamera.from_attributes(target.attributes)
        try:
            async with OnvifClient(
                target.address,
                target.port or OnvifEndpoint.DEFAULT_PORT,
                credential.username,
                credential.password,
                timeout=self.call_timeout_s,
                device_url=stored.device_url(target.address, target.port),
                keep_reported_addresses=stored.keep_reported_addresses,
            ) as client:
                if client.clock_offset_s is not None:
                    fields["clock_offset_s"] = float(client.clock_offset_s)
                profiles = await client.list_profiles()
                fields["onvif_up"] = 1
                if profiles:
                    stream_uri = await client.stream_uri(profiles[0].token)
        except DeviceError as error:
            problems.append(f"ONVIF {error.kind}: {error}")
        fields["probe_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if stream_uri:
            try:
                await check_rtsp(
                    stream_uri,  # pinned by the client to the registered host
                    credential.username,
                    credential.password,
                    timeout_s=self.rtsp_timeout_s,
                    allow_basic=stored.rtsp_basic_auth,
                )
                fields["rtsp_up"] = 1
            except DeviceError as error:
                problems.append(f"RTSP {error.kind}: {error}")
        elif fields["onvif_up"]:
            problems.append("RTSP: device gave no stream URI")
        self._log_change(target, problems)
        return [Point(MEASUREMENT, fields, time.time_ns(), target.tags)]

    def _log_change(self, target: DeviceTarget, problems: list[str]) -> None:
        state = "; ".join(problems) or "ok"
        previous = self._last_state.get(target.device_id)
        if state == previous:
            return
        self._last_state[target.device_id] = state
        if problems:
            log.warning("camera %s (%s) DOWN: %s", target.device_id, target.name, state)
        elif previous is not None:
            log.warning("camera %s (%s) UP again", target.device_id, target.name)
