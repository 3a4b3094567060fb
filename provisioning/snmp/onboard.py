"""Onboard an SNMP device: registry device + its credential + its interfaces, in the caller's transaction.

The contract of every protocol's ``onboard``: check permission (and the site) before any packet, probe,
then write in one transaction, so a failure leaves nothing half-written. :func:`save` is the write
alone, for a caller that probed many agents at once (``ioc discover snmp --onboard``). What the probe
read beyond the device's columns, interfaces included, is stored as :class:`SnmpFacts` through
``provisioning.facts``, like every protocol's.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.models import Device, DeviceKind, Protocol
from device_registry.schemas.devices import DeviceCreate
from device_registry.services import devices as device_service
from provisioning.facts import write_facts
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import (
    MAX_INTERFACES,
    SnmpCredential,
    SnmpEndpoint,
    SnmpFacts,
    SnmpInterfaceFacts,
)
from provisioning.snmp.probe import ProbeResult, probe

_KIND_BY_FAMILY = {
    "switch": DeviceKind.SWITCH,
    "nexus switch": DeviceKind.SWITCH,
    "router": DeviceKind.ROUTER,
    "firewall": DeviceKind.FIREWALL,
    "asa firewall": DeviceKind.FIREWALL,
    "ups": DeviceKind.UPS,
    "ip camera": DeviceKind.CAMERA,
    "wireless access point": DeviceKind.GATEWAY,
}


def kind_for(result: ProbeResult) -> DeviceKind:
    return _KIND_BY_FAMILY.get((result.family or "").lower(), DeviceKind.OTHER)


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else value


async def onboard(
    session: AsyncSession,
    principal: Principal,
    box: SecretBox,
    client: SnmpClient,
    endpoint: SnmpEndpoint,
    *,
    site_code: str,
    name: str | None = None,
    kind: DeviceKind | None = None,
) -> tuple[Device, ProbeResult]:
    """Raises ``RegistryError`` (not allowed, bad site) before any packet, ``DeviceError`` when the agent
    does not answer; then saves what the probe read."""
    principal.require(*device_service.WRITERS, action="onboard devices")
    await device_service.placeable_site(session, principal, site_code)
    result = await probe(client, endpoint)
    device = await save(
        session, principal, box, result, endpoint.credential, site_code=site_code, name=name, kind=kind
    )
    return device, result


async def save(
    session: AsyncSession,
    principal: Principal,
    box: SecretBox,
    result: ProbeResult,
    credential: SnmpCredential,
    *,
    site_code: str,
    name: str | None = None,
    kind: DeviceKind | None = None,
) -> Device:
    """Create the device from ``result`` (name: ``name``, else sysName, else the address)."""
    data = DeviceCreate(
        name=name or result.sys_name or result.host,
        kind=kind or kind_for(result),
        site_code=site_code,
        address=result.host,
        port=None if result.port == SnmpEndpoint.DEFAULT_PORT else result.port,
        protocols=[Protocol.SNMP],
        vendor=_cut(result.vendor, 128),
        model=_cut(result.model, 128),
        firmware=_cut(result.os, 128),
        description=_cut(result.sys_descr, 1024),
        credential=credential,
    )
    (device,) = await device_service.create_devices(session, principal, box, [data])
    write_facts(device, facts_of(result))
    await session.flush()
    return device


def facts_of(result: ProbeResult) -> SnmpFacts:
    """The probe's reading as stored; interfaces beyond :data:`MAX_INTERFACES` are counted in a note."""
    extra = len(result.interfaces) - MAX_INTERFACES
    dropped = [f"{extra} interface(s) beyond {MAX_INTERFACES} not kept"] if extra > 0 else []
    interfaces = [
        SnmpInterfaceFacts(
            if_index=i.index,
            name=_cut(i.name, 255),
            descr=_cut(i.descr, 255),
            alias=_cut(i.alias, 255),
            if_type=i.type,
            speed_bps=i.speed_bps,
            mac=i.mac,
            admin_status=i.admin_status,
            oper_status=i.oper_status,
        )
        for i in result.interfaces[:MAX_INTERFACES]
    ]
    return SnmpFacts(
        sys_object_id=result.sys_object_id,
        enterprise_number=result.enterprise_number,
        vendor_registry_name=result.vendor_registry_name,
        family=result.family,
        sys_location=result.sys_location,
        sys_contact=result.sys_contact,
        notes=[*result.notes, *dropped],
        interfaces=interfaces,
    )
