"""What the ONVIF client hands back: our own dataclasses, never zeep objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from provisioning.endpoint import split_host_port


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
