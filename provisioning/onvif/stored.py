"""What ONVIF onboarding stored in ``device.attributes``, read back and pinned for monitors and pollers.

Onboarding stores the device service address and the stream URI it read, pinned to the address the
device was registered at. At each use they are pinned again to the device's *current* registered
address (a re-addressed camera needs no re-onboarding, and an edited attribute cannot send our
credentials elsewhere), unless onboarding was told ``--keep-reported-addresses``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.onvif.models import OnvifEndpoint
from provisioning.pinning import Pin, default_device_service_url, url_port

ONVIF = "onvif"
DEVICE_SERVICE_URL = "device_service_url"
KEEP_REPORTED_ADDRESSES = "keep_reported_addresses"
RTSP_BASIC_AUTH = "rtsp_basic_auth"
"""Top-level device attribute: ``true`` lets the RTSP check answer a Basic challenge (password in clear)."""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class StoredCamera:
    device_service_url: str | None = None
    stream_uri: str | None = None
    keep_reported_addresses: bool = False
    rtsp_basic_auth: bool = False

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any] | None) -> StoredCamera:
        attributes = attributes or {}
        onvif = attributes.get(ONVIF)
        onvif = onvif if isinstance(onvif, Mapping) else {}
        profiles = onvif.get("profiles")
        first = profiles[0] if isinstance(profiles, list) and profiles else None
        return cls(
            device_service_url=_text(onvif.get(DEVICE_SERVICE_URL)),
            stream_uri=_text(first.get("stream_uri")) if isinstance(first, Mapping) else None,
            keep_reported_addresses=onvif.get(KEEP_REPORTED_ADDRESSES) is True,
            rtsp_basic_auth=attributes.get(RTSP_BASIC_AUTH) is True,
        )

    def pin(self, host: str, port: int | None) -> Pin:
        """Pinned to ``host``/``port`` now; a media port equal to the stored service port follows ``port``."""
        service_port = url_port(self.device_service_url) if self.device_service_url else None
        return Pin(host, port or OnvifEndpoint.DEFAULT_PORT, service_port, self.keep_reported_addresses)

    def device_url(self, host: str, port: int | None) -> str:
        """Where to ask the device service: the stored address pinned, else ONVIF's default path."""
        if self.device_service_url is None:
            return default_device_service_url(host, port or OnvifEndpoint.DEFAULT_PORT)
        return self.pin(host, port).service(self.device_service_url)

    def pinned_stream_uri(self, host: str, port: int | None) -> str | None:
        return self.pin(host, port).media(self.stream_uri) if self.stream_uri else None
