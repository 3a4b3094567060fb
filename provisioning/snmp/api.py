"""REST: ``POST /api/v1/snmp/probe`` (identify, save nothing), ``/snmp/onboard`` and ``/snmp/discover``;
``GET /api/v1/snmp/devices/{id}/interfaces``, the interface inventory onboarding stored.

A device that does not answer raises its typed ``DeviceError``, which ``ioc/app.py`` maps for every
protocol the same way; onboarding writes only after a successful probe, in one transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from device_registry.errors import InvalidInput
from device_registry.models import DeviceKind, Role
from device_registry.schemas.bounds import RowId
from provisioning.api_targets import SnmpTargets
from provisioning.responses import DEVICE_ERROR_RESPONSES
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.discovery import SweepLimits, sweep, sweep_addresses
from provisioning.snmp.models import SnmpEndpoint
from provisioning.snmp.onboard import onboard
from provisioning.snmp.probe import probe
from provisioning.snmp.schemas import (
    SnmpDiscoverPublic,
    SnmpInterfacesPublic,
    SnmpOnboardPublic,
    SnmpProbePublic,
    onboarded,
)
from provisioning.snmp.stored import stored_facts
from provisioning.targets import TargetPolicy

router = APIRouter()
"""Mounted at ``/api/v1/snmp`` by ``ioc/app.py``, as every protocol's router."""

SnmpCredentialIn = Annotated[SnmpCommunityCredential | SnmpV3Credential, Field(discriminator="protocol")]


API_LIMITS = SweepLimits(normal=1024, forced=4096)
"""Through the API a sweep is synchronous: at most a /22 (or 1,024 IPv6 addresses), 4,096 forced."""


class SnmpProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=SnmpEndpoint.DEFAULT_PORT, ge=1, le=65535)
    credential: SnmpCredentialIn
    timeout: float = Field(default=2.0, gt=0, le=30)
    retries: int = Field(default=1, ge=0, le=5)


class SnmpOnboardRequest(SnmpProbeRequest):
    site_code: str = Field(min_length=1)
    name: str | None = Field(default=None, max_length=255)
    kind: DeviceKind | None = None


class SnmpDiscoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cidr: str = Field(min_length=1, max_length=64)
    port: int = Field(default=SnmpEndpoint.DEFAULT_PORT, ge=1, le=65535)
    credentials: list[SnmpCredentialIn] = Field(min_length=1, max_length=16)
    timeout: float = Field(default=1.0, gt=0, le=10)
    retries: int = Field(default=0, ge=0, le=3)
    concurrency: int = Field(default=64, ge=1, le=100)
    force: bool = Field(default=False, description=f"Admins only: up to {API_LIMITS.forced} addresses.")
    deadline_s: float = Field(
        default=60.0, gt=0, le=300, description="Answer with what was found by then (complete=false)."
    )


async def _endpoint(request: SnmpProbeRequest, policy: TargetPolicy) -> SnmpEndpoint:
    await policy.check_host(request.host, "host")
    return SnmpEndpoint(
        request.host, request.credential, port=request.port, timeout=request.timeout, retries=request.retries
    )


@router.post("/probe", response_model=SnmpProbePublic, responses=DEVICE_ERROR_RESPONSES)
async def probe_route(
    request: SnmpProbeRequest, principal: CurrentPrincipal, targets: SnmpTargets
) -> SnmpProbePublic:
    principal.require(Role.ENGINEER, action="probe devices")
    endpoint = await _endpoint(request, targets)
    async with SnmpClient() as client:
        return SnmpProbePublic.model_validate(await probe(client, endpoint))


@router.post(
    "/onboard",
    status_code=status.HTTP_201_CREATED,
    response_model=SnmpOnboardPublic,
    responses=DEVICE_ERROR_RESPONSES,
)
async def onboard_route(
    request: SnmpOnboardRequest,
    session: Session,
    principal: CurrentPrincipal,
    rt: Runtime,
    targets: SnmpTargets,
) -> SnmpOnboardPublic:
    principal.require(Role.ENGINEER, action="onboard devices")  # before the address is even looked at
    endpoint = await _endpoint(request, targets)
    async with SnmpClient() as client:
        device, result = await onboard(
            session,
            principal,
            rt.box,
            client,
            endpoint,
            site_code=request.site_code,
            name=request.name,
            kind=request.kind,
        )
    saved = onboarded(device, result)
    await session.commit()
    return saved


@router.post(
    "/discover",
    response_model=SnmpDiscoverPublic,
    responses={403: {"description": "not an engineer, or force without being an admin"}},
)
async def discover_route(
    request: SnmpDiscoverRequest, principal: CurrentPrincipal, targets: SnmpTargets
) -> SnmpDiscoverPublic:
    """Sweep ``cidr`` and answer with the agents that replied, within ``deadline_s``. Addresses are
    checked against ``IOC_SNMP__ALLOWED_NETWORKS`` before any packet leaves."""
    principal.require(Role.ENGINEER, action="discover devices")
    if request.force:
        principal.require_admin("force a large discovery sweep")
    try:
        planned = sweep_addresses(request.cidr, force=request.force, limits=API_LIMITS)
    except ValueError as error:
        raise InvalidInput(str(error), field="cidr") from None
    targets.check_network(planned.network, "cidr")
    async with SnmpClient(max_in_flight=request.concurrency) as client:
        result = await sweep(
            client,
            planned.addresses(),
            request.port,
            request.credentials,
            timeout=request.timeout,
            retries=request.retries,
            concurrency=request.concurrency,
            deadline_s=request.deadline_s,
        )
    return SnmpDiscoverPublic.of(planned, result)


@router.get("/devices/{device_id}/interfaces", response_model=SnmpInterfacesPublic)
async def interfaces_route(
    device_id: RowId, session: Session, principal: CurrentPrincipal
) -> SnmpInterfacesPublic:
    """The interfaces SNMP onboarding read (ifTable/ifXTable), which ``GET /api/v1/devices`` leaves out.
    404 for a device outside your scope, as for one that does not exist or has no SNMP facts."""
    facts = await stored_facts(session, principal, device_id)
    return SnmpInterfacesPublic(device_id=device_id, interfaces=list(facts.interfaces))
