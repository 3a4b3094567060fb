"""What a collector or check needs to know about one device, detached from the database session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device_registry.credentials import Credential


@dataclass(frozen=True, slots=True)
class DeviceTarget:
    """A device as pollers see it.

    ``site_codes`` is the chain of administrative codes from the root of the site tree down to the
    device's site, used as point tags so dashboards can group by province/district/commune.
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
    attributes: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    """The device's free-form attributes (what onboarding stored: ONVIF addresses, stream URIs)."""
