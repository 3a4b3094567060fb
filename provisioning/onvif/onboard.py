"""Onboarding: probe the camera, optionally set its NTP server, then save device, credential, profiles.

Nothing is written unless the probe succeeded (the Home Assistant config-flow habit), and everything
is written in the caller's one transaction: a failure leaves the registry as it was. Profiles,
channels and notes are stored as :class:`OnvifFacts` through ``provisioning.facts``, where monitors
read stream URIs (``provisioning/onvif/stored.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.credentials import UsernamePasswordCredential
from device_registry.crypto import SecretBox
from device_registry.errors import Conflict
from device_registry.models import Device, DeviceKind, Protocol
from device_registry.schemas.devices import DeviceCreate
from device_registry.services.devices import WRITERS, create_devices, placeable_site
from provisioning.facts import write_facts
from provisioning.onvif.models import OnvifFacts
from provisioning.onvif.probe import ProbeResult, probe_onvif


@dataclass(frozen=True)
class OnboardResult:
    device_id: int
    name: str
    kind: str
    probe: ProbeResult
    ntp_server: str | None


def default_name(probe: ProbeResult) -> str:
    identity = " ".join(x for x in (probe.device.manufacturer, probe.device.model) if x) or "ONVIF device"
    return f"{identity} {probe.device.serial or probe.host}"[:255]


async def onboard_onvif(
    session: AsyncSession,
    principal: Principal,
    box: SecretBox,
    *,
    host: str,
    port: int,
    username: str,
    password: SecretStr,
    site: str,
    name: str | None = None,
    set_ntp: str | None = None,
    call_timeout_s: float = 10.0,
    keep_reported_addresses: bool = False,
    rtsp_basic_auth: bool = False,
) -> OnboardResult:
    """Raises ``DeviceError`` (device side) or ``RegistryError`` (bad site, duplicate, not allowed)."""
    principal.require(*WRITERS, action="onboard devices")
    await placeable_site(session, principal, site)  # bad input fails before we talk to the camera
    probe = await probe_onvif(
        host,
        port,
        username,
        password,
        call_timeout_s=call_timeout_s,
        keep_reported_addresses=keep_reported_addresses,
    )
    if probe.device.serial:
        existing = await session.scalar(
            select(Device.id).where(
                Device.serial == probe.device.serial, Device.vendor == probe.device.manufacturer
            )
        )
        if existing is not None:
            raise Conflict(
                f"serial: device {existing} already has serial {probe.device.serial}", field="serial"
            )
    if set_ntp:
        async with probe.client(username, password, timeout=call_timeout_s) as client:
            await client.set_ntp(set_ntp)
    data = DeviceCreate(
        name=name or default_name(probe),
        kind=DeviceKind.NVR if probe.is_nvr else DeviceKind.CAMERA,
        site_code=site,
        address=host,
        port=port,
        protocols=[Protocol.ONVIF],
        vendor=probe.device.manufacturer[:128] or None,
        model=probe.device.model[:128] or None,
        serial=probe.device.serial[:128] or None,
        firmware=probe.device.firmware[:128] or None,
        credential=UsernamePasswordCredential(protocol="onvif", username=username, password=password),
    )
    (device,) = await create_devices(session, principal, box, [data])
    facts = OnvifFacts.model_validate(
        {
            **probe.to_dict(),
            "ntp_server": set_ntp,
            "device_service_url": probe.device_service_url,
            "keep_reported_addresses": keep_reported_addresses,
            "rtsp_basic_auth": rtsp_basic_auth,
            "probed_at": datetime.now(UTC).replace(microsecond=0),
        }
    )
    write_facts(device, facts)
    await session.flush()
    return OnboardResult(device.id, device.name, str(device.kind), probe, set_ntp)
