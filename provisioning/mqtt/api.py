"""REST under ``/api/v1/mqtt``: ``probe`` a broker, ``discover`` publishers the registry does not know,
``onboard`` a sensor (password shown once), and ``devices/{id}/password|revoke`` to rotate or revoke
its broker credential.

After the transaction commits, the change is pushed to the broker through ``app.state.mqtt_push``
(set by the composition root; absent, the credential is saved and the response says so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.errors import InvalidInput
from device_registry.models import DeviceKind, Role
from provisioning.api_targets import MqttTargets
from provisioning.mqtt.discovery import MAX_LISTEN_S, discover
from provisioning.mqtt.models import MqttEndpoint
from provisioning.mqtt.onboard import onboard_sensor, revoke_sensor, rotate_sensor_password
from provisioning.mqtt.probe import probe
from provisioning.mqtt.schemas import MqttDiscoverPublic, MqttOnboardPublic, MqttProbePublic
from provisioning.mqtt.url import MqttUrl
from provisioning.responses import DEVICE_ERROR_RESPONSES

BrokerPush = Callable[[], Awaitable[str]]

router = APIRouter()
"""Mounted at ``/api/v1/mqtt`` by ``ioc/app.py``, as every protocol's router."""


class _BrokerLogin(BaseModel):
    """A broker and a login, as the probe and discovery requests name them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    port: int | None = Field(default=None, ge=1, le=65535, description="Default: 1883, 8883 with TLS.")
    tls: bool = False
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: SecretStr | None = Field(default=None, max_length=256)

    def endpoint(self, host: str, timeout: float = 5.0) -> MqttEndpoint:
        port = self.port or MqttEndpoint.default_port(self.tls)
        return MqttEndpoint(
            host, port, tls=self.tls, username=self.username, password=self.password, timeout=timeout
        )


class MqttProbeRequest(_BrokerLogin):
    host: str = Field(min_length=1, max_length=255)
    timeout: float = Field(default=5.0, gt=0, le=30)


class MqttDiscoverRequest(_BrokerLogin):
    """Without ``host``: the platform's own broker (``IOC_MQTT_URL``) with its service login. With it,
    another broker (a gateway's), with a login allowed to read ``ioc/v1/d/+/…``."""

    host: str | None = Field(default=None, min_length=1, max_length=255)
    listen_s: float = Field(default=10.0, gt=0, le=MAX_LISTEN_S, description="Seconds to listen.")


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
    endpoint = request.endpoint(request.host, request.timeout)
    return MqttProbePublic.model_validate(await probe(endpoint))


def _platform_broker(request: Request) -> MqttUrl | None:
    platform = getattr(request.app.state, "platform", None)
    return platform.settings.mqtt_url if platform is not None else None


@router.post(
    "/discover",
    response_model=MqttDiscoverPublic,
    responses={**DEVICE_ERROR_RESPONSES, 403: {"description": "not an engineer"}},
)
async def discover_route(
    data: MqttDiscoverRequest,
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    targets: MqttTargets,
) -> MqttDiscoverPublic:
    """Listen to the broker for ``listen_s`` (at most 30 s) and answer with the publishers whose device
    key is no registered device, and the registered MQTT devices in your scope that stayed silent."""
    principal.require(Role.ENGINEER, action="discover devices")
    if data.host is None:
        url = _platform_broker(request)
        if url is None:
            raise InvalidInput("host: no platform broker configured (IOC_MQTT_URL); name one", field="host")
        endpoint = url.endpoint()
    else:
        await targets.check_host(data.host, "host")
        endpoint = data.endpoint(data.host)
    found = await discover(session, principal, endpoint, listen_s=data.listen_s)
    return MqttDiscoverPublic.of(endpoint.label, found)


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
