"""What ONVIF onboarding stored (:class:`OnvifFacts`), read back and pinned for monitors and pollers.

Onboarding stores the device service address and the stream URI it read, pinned to the address the
device was registered at. At each use they are pinned again to the device's *current* registered
address (a re-addressed camera needs no re-onboarding, and an edited attribute cannot send our
credentials elsewhere), unless onboarding was told ``--keep-reported-addresses``.

Pollers and monitors read with :meth:`StoredCamera.of`: a record that does not validate is logged once
and read as none, i.e. the safe defaults (addresses pinned, ONVIF's default device service path, Digest
only for RTSP), so one camera's broken record neither stops the others nor loosens anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.facts import read_facts, read_facts_or_none
from provisioning.onvif.models import OnvifEndpoint, OnvifFacts
from provisioning.pinning import Pin, default_device_service_url, url_port


@dataclass(frozen=True, slots=True)
class StoredCamera:
    device_service_url: str | None = None
    stream_uri: str | None = None
    keep_reported_addresses: bool = False
    rtsp_basic_auth: bool = False

    @classmethod
    def from_facts(cls, facts: OnvifFacts | None) -> StoredCamera:
        if facts is None:
            return cls()
        return cls(
            device_service_url=facts.device_service_url or None,
            stream_uri=(facts.profiles[0].stream_uri or None) if facts.profiles else None,
            keep_reported_addresses=facts.keep_reported_addresses,
            rtsp_basic_auth=facts.rtsp_basic_auth,
        )

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any] | None) -> StoredCamera:
        """Raises ``MalformedFacts`` for a record that does not validate."""
        return cls.from_facts(read_facts(attributes, OnvifFacts))

    @classmethod
    def of(cls, device_id: int, attributes: Mapping[str, Any] | None) -> StoredCamera:
        """For pollers and monitors: a malformed record is logged once and reads as none."""
        return cls.from_facts(read_facts_or_none(device_id, attributes, OnvifFacts))

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


def stored_stream_uri(device_id: int, attributes: Mapping[str, Any] | None) -> str | None:
    """The first profile's stream URI as onboarding stored it, if any (monitors' RTSP check).

    As stored: the check pins it to the device's current address before use.
    """
    return StoredCamera.of(device_id, attributes).stream_uri
