"""What SNMP's probe, discover and onboard answer, in the API and under ``ioc --json`` alike.

Apart from ``api.py`` so that the CLI prints the very models the API returns without importing
fastapi.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from device_registry.models import Device
from provisioning.responses import DiscoverPublic, OnboardPublic
from provisioning.snmp.discovery import DiscoveryHit, Sweep, SweepResult
from provisioning.snmp.models import SnmpInterfaceFacts
from provisioning.snmp.probe import Interface, ProbeResult


class SnmpProbePublic(BaseModel):
    """What ``/snmp/probe`` answers, and ``probe`` of ``/snmp/onboard``."""

    model_config = ConfigDict(from_attributes=True)

    host: str
    port: int
    sys_descr: str | None
    sys_object_id: str | None
    sys_name: str | None
    sys_contact: str | None
    sys_location: str | None
    uptime_s: float | None
    enterprise_number: int | None
    vendor: str | None
    vendor_registry_name: str | None
    family: str | None
    model: str | None
    os: str | None
    rtt_ms: float | None
    has_ifx_table: bool
    interfaces: list[Interface]
    notes: list[str]


SnmpOnboardPublic = OnboardPublic[SnmpProbePublic]


def onboarded(device: Device, result: ProbeResult) -> SnmpOnboardPublic:
    """The saved ``device`` and the probe it was saved from: ``/snmp/onboard``'s answer."""
    return SnmpOnboardPublic(
        device_id=device.id,
        name=device.name,
        kind=str(device.kind),
        notes=list(result.notes),
        probe=SnmpProbePublic.model_validate(result),
    )


class SnmpFoundPublic(BaseModel):
    """One agent that answered a sweep; ``credential`` names which one answered, never its secret."""

    address: str
    port: int
    sys_name: str | None
    sys_descr: str | None
    sys_object_id: str | None
    vendor: str | None
    model: str | None
    credential: str

    @classmethod
    def of(cls, hit: DiscoveryHit) -> SnmpFoundPublic:
        return cls(
            address=hit.address,
            port=hit.port,
            sys_name=hit.sys_name,
            sys_descr=hit.sys_descr,
            sys_object_id=hit.sys_object_id,
            vendor=hit.vendor,
            model=hit.model,
            credential=hit.credential_label,
        )


class SnmpDiscoverPublic(DiscoverPublic[SnmpFoundPublic]):
    network: str
    hosts: int = Field(description="Addresses in the network.")
    asked: int = Field(description="Addresses asked before the sweep ended.")

    @classmethod
    def of(cls, planned: Sweep, result: SweepResult) -> SnmpDiscoverPublic:
        return cls(
            network=str(planned.network),
            hosts=planned.hosts,
            asked=result.asked,
            complete=result.complete,
            found=[SnmpFoundPublic.of(hit) for hit in result.hits],
        )


class SnmpInterfacesPublic(BaseModel):
    """What ``GET /snmp/devices/{id}/interfaces`` answers: the ifTable/ifXTable rows read at onboarding
    (at most 2,048), which the device listing leaves out of ``attributes.snmp``."""

    device_id: int
    interfaces: list[SnmpInterfaceFacts]
