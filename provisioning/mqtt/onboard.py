"""Onboard an MQTT sensor: the registry device, its broker credential and its facts in one transaction.

The facts (:class:`MqttFacts`: user name, topic prefix, credential issued/revoked times) are stored
through ``provisioning.facts`` like every protocol's, and rewritten when the credential is rotated or
revoked; the password's hash stays in the broker's credential store (``credentials.py``).

The caller commits, then pushes the credentials to the broker (:func:`provisioning.mqtt.sync.sync_broker`):
a device that fails validation never gets a credential, and a credential never exists without its
device (foreign key, cascade on delete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.models import DeviceKind, Protocol
from device_registry.schemas.devices import DeviceCreate
from device_registry.services import audit
from device_registry.services.devices import WRITERS, create_devices, get_device
from provisioning.facts import write_facts
from provisioning.mqtt.credentials import issue_credential, revoke_credential
from provisioning.mqtt.topics import TopicKind, device_topic


@dataclass(frozen=True)
class OnboardedSensor:
    device_id: int
    name: str
    kind: str
    site_code: str
    username: str
    password: SecretStr
    """Shown once to the operator for the firmware; only its hash is stored."""

    @property
    def topics(self) -> dict[str, str]:
        return {kind.value: device_topic(self.device_id, kind) for kind in TopicKind}


async def onboard_sensor(
    session: AsyncSession,
    principal: Principal,
    box: SecretBox,
    name: str,
    site_code: str,
    *,
    kind: DeviceKind = DeviceKind.SENSOR,
    tags: Sequence[str] = (),
) -> OnboardedSensor:
    (device,) = await create_devices(
        session,
        principal,
        box,
        [DeviceCreate(name=name, kind=kind, site_code=site_code, protocols=[Protocol.MQTT], tags=list(tags))],
    )
    issued = await issue_credential(session, device.id)
    write_facts(device, issued.facts)
    await audit.record(session, principal, "issue_mqtt_credential", "device", device.id, device.name)
    return OnboardedSensor(
        device.id, device.name, str(device.kind), site_code, issued.username, issued.password
    )


async def rotate_sensor_password(session: AsyncSession, principal: Principal, device_id: int) -> SecretStr:
    device = await get_device(session, principal, device_id, for_write=True)
    principal.require(*WRITERS, action="issue MQTT credentials")
    issued = await issue_credential(session, device.id)
    write_facts(device, issued.facts)
    await audit.record(session, principal, "issue_mqtt_credential", "device", device.id, device.name)
    return issued.password


async def revoke_sensor(session: AsyncSession, principal: Principal, device_id: int) -> bool:
    device = await get_device(session, principal, device_id, for_write=True)
    principal.require(*WRITERS, action="revoke MQTT credentials")
    revoked = await revoke_credential(session, device.id)
    if revoked is None:
        return False
    write_facts(device, revoked)
    await audit.record(session, principal, "revoke_mqtt_credential", "device", device.id, device.name)
    return True
