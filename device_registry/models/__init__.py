"""Every registry table; importing this package registers them on ``device_registry.db.Base``."""

from device_registry.models.audit import AuditEntry
from device_registry.models.devices import (
    Credential,
    Device,
    DeviceKind,
    DeviceSiteHistory,
    DeviceTag,
    DeviceUplink,
    Lifecycle,
    Protocol,
)
from device_registry.models.sites import Site, SiteKind, SiteSuccession
from device_registry.models.users import ApiToken, Role, User, UserScopeDevice

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Credential",
    "Device",
    "DeviceKind",
    "DeviceSiteHistory",
    "DeviceTag",
    "DeviceUplink",
    "Lifecycle",
    "Protocol",
    "Role",
    "Site",
    "SiteKind",
    "SiteSuccession",
    "User",
    "UserScopeDevice",
]
