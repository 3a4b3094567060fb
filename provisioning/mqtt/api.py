"""REST under ``/api/v1/mqtt``: ``probe`` a broker, ``onboard`` a sensor (password shown once), and
``devices/{id}/password|revoke`` to rotate or revoke its broker credential.

After the transaction commits, the change is pushed to the broker through ``app.state.mqtt_push``
(set by the composition root; absent, the credential is saved and the response says so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.models import DeviceKind, Role
from provisioning.api_targets import MqttTargets
from provisioning.mqtt.models import MqttEndpoint
from provisioning.mqtt.onboard import onboard_sensor, revoke_sensor, rotate_sensor_password
from provisioning.mqtt.probe import probe
from provisioning.mqtt.schemas import MqttOnboardPublic, MqttProbePublic
from provisioning.responses import DEVICE_ERROR_RESPONSES

BrokerPush = Callable[[], Awaitable[str]]

router = APIRouter()
"""Mounted at ``/api/v1/mqtt`` by ``ioc/app.py``, as every protocol's router."""


class MqttProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    host: str = Field(min_length=1, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535, description="Default: 1883, 8883 with TLS.")
    tls: bool = False
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: SecretStr | None = Field(default=None, max_length=256)
    timeout: float = Field(default=5.0, gt=0, le=30)


class SensorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    site_code: str = Field(min_length=1, max_length=64)
    kind: DeviceKind = DeviceKind.SENSOR
    tags: list[str] = []


class NewPassword(BaseModel):
    device_id: int
    username: str
    one_time_password: str = Field(description="Shown in this response only: only its hash is stored.")
    broker: str


class Revocation(BaseModel):
    device_id: int
    revoked: bool
    broker: str


async def _commit_and_push(session: AsyncSession, request: Request) -> str:
    """Commit the credential change, then push it to the broker; says what the broker did."""
    await session.commit()
    push: BrokerPush | None = getattr(request.app.state, "mqtt_push", None)
    return await push() if push is not None else "broker push not configured; credential saved"


@router.post("/probe", responses=DEVICE_ERROR_RESPONSES)
async def probe_route(
    request: MqttProbeRequest, principal: CurrentPrincipal, targets: MqttTargets
) -> MqttProbePublic:
    """Connect to a broker with the given login and read its version; saves nothing."""
    principal.require(Role.ENGINEER, action="probe devices")
    await targets.check_host(request.host, "host")
    endpoint = MqttEndpoint(
        request.host,
        request.port or MqttEndpoint.default_port(request.tls),
        tls=request.tls,
        username=request.username,
        password=request.password,
        timeout=request.timeout,
    )
    return MqttProbePublic.model_validate(await probe(endpoint))


@router.post("/onboard", status_code=status.HTTP_201_CREATED)
async def create_sensor(
    data: SensorCreate, request: Request, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> MqttOnboardPublic:
    """Register a sensor and issue its broker password, answered here once (only its hash is kept)."""
    sensor = await onboard_sensor(
        session, principal, rt.box, data.name, data.site_code, kind=data.kind, tags=data.tags
    )
    return MqttOnboardPublic.of(sensor, await _commit_and_push(session, request))


@router.post("/devices/{device_id}/password")
async def rotate_password(
    device_id: int, request: Request, session: Session, principal: CurrentPrincipal
) -> NewPassword:
    """A new broker password for the sensor, shown once; the old one stops at the broker reload."""
    password = await rotate_sensor_password(session, principal, device_id)
    broker = await _commit_and_push(session, request)
    return NewPassword(
        device_id=device_id,
        username=str(device_id),
        one_time_password=password.get_secret_value(),
        broker=broker,
    )


@router.post("/devices/{device_id}/revoke")
async def revoke(
    device_id: int, request: Request, session: Session, principal: CurrentPrincipal
) -> Revocation:
    revoked = await revoke_sensor(session, principal, device_id)
    return Revocation(device_id=device_id, revoked=revoked, broker=await _commit_and_push(session, request))
