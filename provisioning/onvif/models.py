"""What the ONVIF client hands back: our own dataclasses, never zeep objects.

Also :class:`OnvifFacts`, what onboarding stored about a camera or NVR (``device.attributes["onvif"]``,
through ``provisioning.facts``), which monitors and the camera collector read back
(``provisioning/onvif/stored.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from provisioning.endpoint import split_host_port
from provisioning.facts import Facts


class OnvifEndpoint:
    """Where an ONVIF device's device service answers when nothing else is known: HTTP on port 80."""

    DEFAULT_PORT: ClassVar[int] = 80

    @classmethod
    def split(cls, target: str) -> tuple[str, int]:
        """``HOST[:PORT]`` with ONVIF's default port."""
        return split_host_port(target, cls.DEFAULT_PORT)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True, slots=True)
class VideoSource:
    token: str
    width: int | None
    height: int | None
    fps: float | None


@dataclass(frozen=True, slots=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    """H264, H265, JPEG, ... as the device names it; None when the profile has no video encoder."""
    width: int | None
    height: int | None
    fps: float | None
    video_source_token: str | None
    stream_uri: str | None = None
    snapshot_uri: str | None = None

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None


@dataclass(frozen=True, slots=True)
class Channel:
    """One video input: a camera has one, an NVR one per connected camera."""

    video_source_token: str
    profiles: tuple[MediaProfile, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    token: str
    name: str | None
    mac: str | None
    enabled: bool
    ipv4: tuple[str, ...] = ()


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class OnvifProfileFacts(_Record):
    """A media profile as stored; URIs carry no credentials (the probe strips them)."""

    token: str
    name: str = ""
    encoding: str | None = None
    resolution: str | None = None
    fps: float | None = None
    video_source_token: str | None = None
    stream_uri: str | None = None
    snapshot_uri: str | None = None


class OnvifChannelFacts(_Record):
    video_source_token: str
    profiles: list[str] = Field(default_factory=list)
    """Tokens of this channel's profiles."""


class OnvifFacts(Facts):
    """What ONVIF onboarding read and was told.

    ``device_service_url`` and the first profile's ``stream_uri`` are where monitors and the camera
    collector ask (pinned again at each use); ``keep_reported_addresses`` and ``rtsp_basic_auth`` are the
    operator's choices at onboarding (``--keep-reported-addresses``, ``--allow-rtsp-basic``).
    """

    protocol: ClassVar[str] = "onvif"

    version: Literal[1] = 1
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    clock_offset_s: float | None = None
    services: list[str] = Field(default_factory=list)
    media_service: str | None = None
    is_nvr: bool = False
    profiles: list[OnvifProfileFacts] = Field(default_factory=list)
    channels: list[OnvifChannelFacts] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    probe_ms: float | None = None
    ntp_server: str | None = None
    device_service_url: str | None = None
    keep_reported_addresses: bool = False
    rtsp_basic_auth: bool = False
    """True lets the RTSP check answer a Basic challenge (password in clear) for old firmware."""
    probed_at: datetime | None = None
