"""What a collector or check needs to know about one device, detached from the database session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device_registry.credentials import Credential
from device_registry.tags import device_tags


@dataclass(frozen=True, slots=True)
class DeviceTarget:
    """A device as pollers see it.

    ``site_codes`` is the chain of site codes from the root of the site tree down to the device's site
    and ``site_kinds`` their kinds (province, district, commune, ...), one per code; :attr:`tags` turns
    them into the point tags of :func:`device_registry.tags.device_tags`.
    ``credential`` is already decrypted; it holds ``SecretStr`` fields and never appears in logs.
    """

    device_id: int
    name: str
    kind: str
    address: str
    port: int | None = None
    site_codes: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()
    credential: Credential | None = field(default=None, repr=False)
    site_kinds: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    """The device's attributes: what onboarding stored (protocol facts: ONVIF addresses, stream URIs).
    Loaded for pollers without SNMP's interface inventory (``queries.targets.watched_devices``)."""

    @property
    def tags(self) -> dict[str, str]:
        """The device's point tags (a fresh dict each call, so callers may add their own keys)."""
        return device_tags(self.device_id, self.name, self.kind, self.site_codes, self.site_kinds)
