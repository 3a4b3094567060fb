"""REST: ``POST /api/v1/onvif/probe`` (saves nothing) and ``/onvif/onboard``, as ``ioc probe|onboard onvif``.

A camera's failure raises its typed ``DeviceError``, mapped by ``ioc/app.py`` like every protocol's."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.models import Role
from device_registry.schemas.devices import check_address
from provisioning.api_targets import OnvifTargets
from provisioning.onvif.models import OnvifEndpoint
from provisioning.onvif.onboard import onboard_onvif
from provisioning.onvif.probe import probe_onvif
from provisioning.responses import DEVICE_ERROR_RESPONSES, OnboardPublic

router = APIRouter()
"""Mounted at ``/api/v1/onvif`` by ``ioc/app.py``, as every protocol's router."""


class OnvifProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    address: str
    port: int = Field(default=OnvifEndpoint.DEFAULT_PORT, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=128)
    password: SecretStr
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    keep_reported_addresses: bool = Field(
        default=False,
        description="Use the addresses the device reports as they are, not pinned to `address`/`port`.",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        checked = check_address(value)
        if checked is None:
            raise ValueError("address is required")
        return checked


class OnvifOnboardRequest(OnvifProbeRequest):
    site_code: str = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1, max_length=255)
    set_ntp: str | None = Field(default=None, min_length=1, max_length=255)
    rtsp_basic_auth: bool = Field(
        default=False, description="Let the RTSP check answer a Basic challenge (password in clear)."
    )


class OnvifProfilePublic(BaseModel):
    token: str
    name: str
    encoding: str | None
    resolution: str | None = Field(description="WIDTHxHEIGHT, null when the device did not say.")
    fps: float | None
    video_source_token: str | None
    stream_uri: str | None
    snapshot_uri: str | None


class OnvifChannelPublic(BaseModel):
    video_source_token: str
    profiles: list[str] = Field(description="Tokens of the channel's profiles.")


class OnvifProbePublic(BaseModel):
    """What ``/onvif/probe`` answers, and ``probe`` of ``/onvif/onboard``."""

    host: str
    port: int
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str
    clock_offset_s: float | None = Field(description="Device clock minus ours, seconds.")
    services: list[str]
    media_service: str
    is_nvr: bool
    profiles: list[OnvifProfilePublic]
    channels: list[OnvifChannelPublic]
    notes: list[str]
    probe_ms: float


class OnvifOnboardPublic(OnboardPublic[OnvifProbePublic]):
    ntp_server: str | None = Field(description="The NTP server the camera was pointed at (``set_ntp``).")


@router.post("/probe", response_model=OnvifProbePublic, responses=DEVICE_ERROR_RESPONSES)
async def probe(
    data: OnvifProbeRequest, principal: CurrentPrincipal, targets: OnvifTargets
) -> OnvifProbePublic:
    """Identity, clock offset, services and stream profiles of one camera or NVR; saves nothing."""
    principal.require(Role.ENGINEER, action="probe devices")
    await targets.check_host(data.address, "address")
    result = await probe_onvif(
        data.address,
        data.port,
        data.username,
        data.password,
        call_timeout_s=data.timeout_s,
        keep_reported_addresses=data.keep_reported_addresses,
    )
    return OnvifProbePublic.model_validate(result.to_dict())


@router.post(
    "/onboard",
    status_code=status.HTTP_201_CREATED,
    response_model=OnvifOnboardPublic,
    responses=DEVICE_ERROR_RESPONSES,
)
async def onboard(
    data: OnvifOnboardRequest,
    session: Session,
    principal: CurrentPrincipal,
    rt: Runtime,
    targets: OnvifTargets,
) -> OnvifOnboardPublic:
    await targets.check_host(data.address, "address")
    result = await onboard_onvif(
        session,
        principal,
        rt.box,
        host=data.address,
        port=data.port,
        username=data.username,
        password=data.password,
        site=data.site_code,
        name=data.name,
        set_ntp=data.set_ntp,
        call_timeout_s=data.timeout_s,
        keep_reported_addresses=data.keep_reported_addresses,
        rtsp_basic_auth=data.rtsp_basic_auth,
    )
    await session.commit()
    return OnvifOnboardPublic.model_validate(result.to_dict())
