"""Probe: connect, read identity, clock, services and media profiles; report what is missing.

Onboarding calls this before writing anything, so a device that fails here leaves the registry
untouched (the Home Assistant config-flow habit: probe first, then save).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pydantic import SecretStr

from provisioning.errors import NotSupported
from provisioning.onvif.client import NS_DEVICE, OnvifClient
from provisioning.onvif.models import Channel, DeviceInfo, MediaProfile
from provisioning.pinning import strip_userinfo


@dataclass(frozen=True)
class ProbeResult:
    host: str
    port: int
    device: DeviceInfo
    clock_offset_s: float | None
    """Device clock minus ours, seconds; None when the device did not report a usable clock."""
    services: list[str]
    profiles: list[MediaProfile]
    channels: list[Channel]
    media_service: str
    """``media2`` or ``media``: which one the profiles came from."""
    notes: list[str] = field(default_factory=list)
    probe_ms: float = 0.0
    device_service_url: str = ""
    """Where the device service answered (pinned unless ``keep_reported_addresses``): monitors ask there."""
    keep_reported_addresses: bool = False

    @property
    def is_nvr(self) -> bool:
        return len(self.channels) > 1

    def client(self, username: str, password: SecretStr, *, timeout: float) -> OnvifClient:
        """A new session with the device probed, at the device service URL the probe used."""
        return OnvifClient(
            self.host,
            self.port,
            username,
            password,
            timeout=timeout,
            device_url=self.device_service_url,
            keep_reported_addresses=self.keep_reported_addresses,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: flat identity, then services, profiles and channels."""
        return {
            "host": self.host,
            "port": self.port,
            **asdict(self.device),
            "clock_offset_s": self.clock_offset_s,
            "services": self.services,
            "media_service": self.media_service,
            "is_nvr": self.is_nvr,
            "profiles": [_profile_dict(p) for p in self.profiles],
            "channels": [
                {"video_source_token": c.video_source_token, "profiles": [p.token for p in c.profiles]}
                for c in self.channels
            ],
            "notes": self.notes,
            "probe_ms": self.probe_ms,
        }


def _profile_dict(profile: MediaProfile) -> dict[str, Any]:
    return {
        "token": profile.token,
        "name": profile.name,
        "encoding": profile.encoding,
        "resolution": profile.resolution,
        "fps": profile.fps,
        "video_source_token": profile.video_source_token,
        "stream_uri": profile.stream_uri,
        "snapshot_uri": profile.snapshot_uri,
    }


def _without_credentials(profile: MediaProfile) -> MediaProfile:
    """Credentials a device embeds in its URIs are neither shown nor stored (the registry holds ours)."""
    return replace(
        profile,
        stream_uri=strip_userinfo(profile.stream_uri) if profile.stream_uri else profile.stream_uri,
        snapshot_uri=strip_userinfo(profile.snapshot_uri) if profile.snapshot_uri else profile.snapshot_uri,
    )


def _channels(profiles: list[MediaProfile], source_tokens: list[str]) -> list[Channel]:
    """One channel per video source, in the device's order; profiles without a source go to the first."""
    order = list(dict.fromkeys([*source_tokens, *(p.video_source_token or "" for p in profiles)]))
    order = [token for token in order if token] or [""]
    grouped: dict[str, list[MediaProfile]] = {token: [] for token in order}
    for profile in profiles:
        grouped.setdefault(profile.video_source_token or order[0], []).append(profile)
    return [Channel(token, tuple(items)) for token, items in grouped.items()]


async def probe_onvif(
    host: str,
    port: int,
    username: str,
    password: SecretStr,
    *,
    call_timeout_s: float = 10.0,
    adjust_time: bool = True,
    keep_reported_addresses: bool = False,
) -> ProbeResult:
    """Everything the platform needs to onboard one camera or NVR; raises ``DeviceError`` subclasses."""
    started = time.perf_counter()
    async with OnvifClient(
        host,
        port,
        username,
        password,
        timeout=call_timeout_s,
        adjust_time=adjust_time,
        keep_reported_addresses=keep_reported_addresses,
    ) as client:
        device = await client.device_info()
        profiles, _ = await client.profiles()
        profiles = [_without_credentials(profile) for profile in profiles]
        try:
            sources = [source.token for source in await client.video_sources()]
        except NotSupported:
            client.note("GetVideoSources not supported: channels grouped by the profiles' video sources")
            sources = []
        if client.clock_offset_s is None:
            client.note("device did not report a usable clock: offset unknown, not adjusted")
        return ProbeResult(
            host=host,
            port=port,
            device=device,
            clock_offset_s=client.clock_offset_s,
            services=client.services,
            profiles=profiles,
            channels=_channels(profiles, sources),
            media_service="media2" if client.has_media2 else "media",
            notes=list(client.notes),
            probe_ms=round((time.perf_counter() - started) * 1000, 1),
            device_service_url=client.xaddrs[NS_DEVICE],
            keep_reported_addresses=keep_reported_addresses,
        )
