"""What ONVIF's probe, discover and onboard answer, in the API and under ``ioc --json`` alike.

Apart from ``api.py`` so that the CLI prints the very models the API returns without importing
fastapi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from provisioning.responses import DiscoverPublic, OnboardPublic

if TYPE_CHECKING:  # the CLI's discovery needs neither zeep (onboard) nor lxml (wsdiscovery) to print
    from provisioning.onvif.discovery import Found, Search
    from provisioning.onvif.onboard import OnboardResult
    from provisioning.onvif.wsdiscovery import DiscoveredDevice


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

    @classmethod
    def of(cls, result: OnboardResult) -> OnvifOnboardPublic:
        return cls(
            device_id=result.device_id,
            name=result.name,
            kind=result.kind,
            ntp_server=result.ntp_server,
            notes=result.probe.notes,
            probe=OnvifProbePublic.model_validate(result.probe.to_dict()),
        )


class OnvifFoundPublic(BaseModel):
    """One device that answered the WS-Discovery Probe; ``name``, ``hardware`` and ``location`` come
    from its ONVIF scopes, URL-decoded."""

    address: str = Field(description="Where the answer came from.")
    endpoint: str
    name: str | None
    hardware: str | None
    location: str | None
    scopes: list[str]
    xaddrs: list[str] = Field(description="Where the device says its device service answers.")
    types: list[str]

    @classmethod
    def of(cls, device: DiscoveredDevice) -> OnvifFoundPublic:
        return cls(
            address=device.address,
            endpoint=device.endpoint,
            name=device.scope("name"),
            hardware=device.scope("hardware"),
            location=device.scope("location"),
            scopes=device.scopes,
            xaddrs=device.xaddrs,
            types=device.types,
        )


class OnvifDiscoverPublic(DiscoverPublic[OnvifFoundPublic]):
    interface: str | None = Field(description="The interface the multicast Probe left on, if any.")
    address: str | None = Field(description="The address a directed Probe was sent to, if any.")
    listen_s: float = Field(description="How long answers were collected.")

    @classmethod
    def of(cls, search: Search, found: Found) -> OnvifDiscoverPublic:
        return cls(
            interface=search.interface,
            address=search.address,
            listen_s=search.listen_s,
            complete=found.complete,
            found=[OnvifFoundPublic.of(device) for device in found.devices],
        )
