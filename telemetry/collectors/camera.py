"""``camera_health``: is the camera's ONVIF service up, is its main stream live, how far is its clock.

A camera that fails either part raises :class:`CameraFailed`, carrying the ONVIF or RTSP error's
``kind`` and ``retryable`` and the fields measured before it failed, so the cycle runner records the
failure and logs it once on change like any device's; :meth:`CameraHealthCollector.points_on_failure`
then writes the point anyway (``rtsp_up=0``, ``onvif_error=auth_failed`` ...) so dashboards see the
outage and why.

``onvif_up`` means what the monitors' ONVIF check means by up: the device service answered. A
refused login is an answer, so a wrong stored password reads ``onvif_up=1 onvif_error=auth_failed``
(``rtsp_up=0``: without a login there is no stream URI to try), as the check reads up with
``auth_failed``.
"""

from __future__ import annotations

import asyncio
import time

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from provisioning.errors import AuthFailed, DeviceError, DeviceTimeout, NotSupported
from provisioning.onvif.client import OnvifClient
from provisioning.onvif.models import OnvifEndpoint
from provisioning.onvif.stored import StoredCamera
from provisioning.rtsp.check import check_rtsp
from telemetry.collector import Collector
from telemetry.points import FieldValue, Point

MEASUREMENT = "camera_health"
ONVIF_CALLS = 4
"""GetSystemDateAndTime, GetServices, GetProfiles, GetStreamUri: each bounded by ``call_timeout_s``."""


class CameraFailed(DeviceError):
    """The ONVIF or RTSP part of a poll failed: that error's kind, and the fields measured so far."""

    def __init__(self, cause: DeviceError, fields: dict[str, FieldValue]) -> None:
        super().__init__(str(cause), retryable=cause.retryable)  # the clients' messages name the part
        self.kind = cause.kind
        self.fields = fields


class CameraHealthCollector(Collector[DeviceTarget]):
    """``await collector.collect(target)`` returns one ``camera_health`` point or raises
    :class:`CameraFailed`; ``points_on_failure`` gives the point of a failed poll."""

    name = MEASUREMENT

    def __init__(self, *, call_timeout_s: float = 10.0, rtsp_timeout_s: float = 5.0) -> None:
        self.call_timeout_s = call_timeout_s
        self.rtsp_timeout_s = rtsp_timeout_s

    @property
    def onvif_budget_s(self) -> float:
        return self.call_timeout_s * ONVIF_CALLS

    @property
    def deadline_s(self) -> float:
        """The longest one poll takes when each part stops at its own bound."""
        return self.onvif_budget_s + self.rtsp_timeout_s

    async def collect(self, target: DeviceTarget) -> list[Point]:
        credential = target.credential
        if not isinstance(credential, UsernamePasswordCredential):
            raise ValueError(f"device {target.device_id}: credential must be a user name and password")
        started = time.perf_counter()
        fields: dict[str, FieldValue] = {"onvif_up": 0, "rtsp_up": 0}

        def probe_ms() -> None:  # the ONVIF part's duration
            fields.setdefault("probe_ms", round((time.perf_counter() - started) * 1000, 1))

        def failed(part: str, error: DeviceError) -> CameraFailed:
            probe_ms()
            fields[f"{part}_error"] = error.kind
            return CameraFailed(error, fields)

        stream_uri: str | None = None
        stored = StoredCamera.of(target.device_id, target.attributes)
        try:
            async with (
                asyncio.timeout(self.onvif_budget_s),
                OnvifClient(
                    target.address,
                    target.port or OnvifEndpoint.DEFAULT_PORT,
                    credential.username,
                    credential.password,
                    timeout=self.call_timeout_s,
                    device_url=stored.device_url(target.address, target.port),
                    keep_reported_addresses=stored.keep_reported_addresses,
                ) as client,
            ):
                if client.clock_offset_s is not None:
                    fields["clock_offset_s"] = float(client.clock_offset_s)
                profiles = await client.list_profiles()
                fields["onvif_up"] = 1
                stream_uri = await client.stream_uri(profiles[0].token) if profiles else None
        except TimeoutError:
            budget = DeviceTimeout(f"ONVIF {target.address}: no answer within {self.onvif_budget_s:g} s")
            raise failed("onvif", budget) from None
        except AuthFailed as error:
            fields["onvif_up"] = 1  # it answered: "log in first" is not an outage (the monitors agree)
            raise failed("onvif", error) from error
        except DeviceError as error:
            raise failed("onvif", error) from error
        probe_ms()
        if not stream_uri:
            raise failed("rtsp", NotSupported("RTSP: the device gave no stream URI"))
        try:
            await check_rtsp(
                stream_uri,  # pinned by the client to the registered host
                credential.username,
                credential.password,
                timeout_s=self.rtsp_timeout_s,
                allow_basic=stored.rtsp_basic_auth,
            )
        except DeviceError as error:
            raise failed("rtsp", error) from error
        fields["rtsp_up"] = 1
        return [Point(MEASUREMENT, fields, time.time_ns(), target.tags)]

    def points_on_failure(self, target: DeviceTarget, error: Exception) -> list[Point]:
        """The ``camera_health`` point of a failed poll: what :class:`CameraFailed` measured, or
        ``onvif_up=0 rtsp_up=0`` alone when the poll was cut short (the runner's deadline, a bug)."""
        fields = error.fields if isinstance(error, CameraFailed) else {"onvif_up": 0, "rtsp_up": 0}
        return [Point(MEASUREMENT, fields, time.time_ns(), target.tags)]
