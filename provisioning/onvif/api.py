"""REST: ``POST /api/v1/onvif/probe`` (saves nothing), ``/onvif/discover`` (WS-Discovery) and
``/onvif/onboard``, as ``ioc probe|discover|onboard onvif``.

A camera's failure raises its typed ``DeviceError``, mapped by ``ioc/app.py`` like every protocol's."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.errors import InvalidInput
from device_registry.models import Role
from device_registry.schemas.devices import check_address
from provisioning.api_targets import OnvifTargets
from provisioning.onvif.discovery import MAX_LISTEN_S, DiscoveryError, Search, discover, interface_ipv4
from provisioning.onvif.models import OnvifEndpoint
from provisioning.onvif.onboard import onboard_onvif
from provisioning.onvif.probe import probe_onvif
from provisioning.onvif.schemas import OnvifDiscoverPublic, OnvifOnboardPublic, OnvifProbePublic
from provisioning.onvif.wsdiscovery import PORT as WSD_PORT
from provisioning.responses import DEVICE_ERROR_RESPONSES

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


class OnvifDiscoverRequest(BaseModel):
    """Exactly one of ``interface`` (a multicast Probe leaving on that interface only) and ``address``
    (a directed Probe to that one address)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    interface: str | None = Field(default=None, min_length=1, max_length=15, description="e.g. eth1")
    address: str | None = Field(default=None, min_length=1, max_length=255)
    port: int = Field(default=WSD_PORT, ge=1, le=65535, description="WS-Discovery port of a directed Probe.")
    timeout_s: float = Field(default=3.0, gt=0, le=MAX_LISTEN_S, description="Seconds to collect answers.")

    @field_validator("address")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                raise ValueError("address: an IPv4 address (a directed Probe is sent to it)") from None
        return value

    @model_validator(mode="after")
    def _one_target(self) -> OnvifDiscoverRequest:
        if (self.interface is None) == (self.address is None):
            raise ValueError("give exactly one of interface and address")
        return self


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
    "/discover",
    response_model=OnvifDiscoverPublic,
    responses={403: {"description": "not an engineer"}},
)
async def discover_route(
    data: OnvifDiscoverRequest, principal: CurrentPrincipal, targets: OnvifTargets
) -> OnvifDiscoverPublic:
    """WS-Discovery: cameras and NVRs that answer a Probe within ``timeout_s``; saves nothing. The
    interface's own address, or ``address``, is checked against ``IOC_ONVIF__ALLOWED_NETWORKS``
    before any packet leaves."""
    principal.require(Role.ENGINEER, action="discover devices")
    try:
        if data.interface is not None:
            await targets.check_host(interface_ipv4(data.interface), "interface")
        else:
            assert data.address is not None
            await targets.check_host(data.address, "address")
        search = Search(
            interface=data.interface, address=data.address, listen_s=data.timeout_s, port=data.port
        )
        return OnvifDiscoverPublic.of(search, await discover(search))
    except DiscoveryError as error:
        raise InvalidInput(str(error).removeprefix("--"), field=error.field) from None


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
    return OnvifOnboardPublic.of(result)
