from __future__ import annotations

import enum
import ipaddress
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from device_registry.credentials import Credential
from device_registry.models import DeviceKind, Lifecycle, Protocol
from device_registry.schemas.bounds import RowId
from device_registry.schemas.common import PlainText

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_TAG = re.compile(r"^[\w.:/-]{1,64}$")


def check_address(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        # A host name's last label is never all digits (RFC 1123 §2.1), so "10.0.0.300" is a bad IP.
        if _HOSTNAME.match(value) and not value.rsplit(".", 1)[-1].isdigit():
            return value.lower()
    raise ValueError(f"{value!r} is neither an IP address nor a host name")


def check_tags(values: list[str]) -> list[str]:
    for tag in values:
        if not _TAG.match(tag):
            raise ValueError(f"tag {tag!r}: 1-64 letters, digits, or . _ : / -")
    return sorted(set(values))


class DeviceDetails(BaseModel):
    """What probes fill in and people may correct; shared by create, update and import rows."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    vendor: PlainText | None = Field(default=None, max_length=128)
    model: PlainText | None = Field(default=None, max_length=128)
    serial: PlainText | None = Field(default=None, max_length=128)
    firmware: PlainText | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=1024)


class _DeviceFields(DeviceDetails):
    @field_validator("address", check_fields=False)
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return check_address(value)

    @field_validator("tags", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_tags(value)


class DeviceCreate(_DeviceFields):
    name: PlainText = Field(min_length=1, max_length=255)
    kind: DeviceKind
    site_code: str | None = None
    site_id: RowId | None = None
    address: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    protocols: list[Protocol] = []
    uplink_ids: list[RowId] = Field(default=[], max_length=64)
    tags: list[str] = Field(default=[], max_length=64)
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    credential: Credential | None = None
    credential_ref: str | None = None

    @model_validator(mode="after")
    def _site_and_credential(self) -> DeviceCreate:
        if (self.site_code is None) == (self.site_id is None):
            raise ValueError("give exactly one of site_code or site_id")
        if self.credential is not None and self.credential_ref is not None:
            raise ValueError("give credential or credential_ref, not both")
        return self


class DeviceUpdate(_DeviceFields):
    name: PlainText | None = Field(default=None, min_length=1, max_length=255)
    kind: DeviceKind | None = None
    site_code: str | None = None
    site_id: RowId | None = None
    address: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    protocols: list[Protocol] | None = None
    uplink_ids: list[RowId] | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=64)
    lifecycle: Lifecycle | None = None
    credential: Credential | None = None
    credential_ref: str | None = None
    clear_credential: bool = False

    @model_validator(mode="after")
    def _exclusive(self) -> DeviceUpdate:
        if self.site_code is not None and self.site_id is not None:
            raise ValueError("give site_code or site_id, not both")
        given = sum(x is not None for x in (self.credential, self.credential_ref)) + int(
            self.clear_credential
        )
        if given > 1:
            raise ValueError("give one of credential, credential_ref or clear_credential")
        return self


class SiteRef(BaseModel):
    id: int
    code: str
    name: str
    open: bool


class OperState(enum.StrEnum):
    """A device's state as operations see it: the monitors' state, with maintenance and flapping on top."""

    UP = "up"
    SOFT_DOWN = "soft_down"
    DOWN = "down"
    UNREACHABLE = "unreachable"
    FLAPPING = "flapping"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class CheckResultPublic(BaseModel):
    check: str
    ok: bool
    latency_ms: float | None
    reason: str
    error_kind: str | None


class DeviceStatePublic(BaseModel):
    """Filled by the monitors (``monitors/status_queries.py``); ``unknown`` until a device is checked."""

    state: OperState
    since: datetime | None
    checked_at: datetime | None
    reason: str
    root_cause_device_id: int | None
    checks: list[CheckResultPublic]


class DevicePublic(BaseModel):
    id: int
    name: str
    kind: DeviceKind
    protocols: list[str]
    address: str | None
    port: int | None
    site: SiteRef
    uplink_ids: list[int]
    tags: list[str]
    lifecycle: Lifecycle
    vendor: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    description: str | None
    has_credential: bool
    credential_ref: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    state: DeviceStatePublic | None = None


class SiteHistoryPublic(BaseModel):
    site: SiteRef
    valid_from: datetime
    valid_to: datetime | None
    reason: str


class CredentialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[\w.:/@-]+$")
    credential: Credential
    site_code: str | None = Field(
        default=None,
        max_length=64,
        description="Owning site: only devices in its subtree may use the credential. Default: your "
        "scope site; for unscoped users, none (registry-wide).",
    )


class CredentialPublic(BaseModel):
    id: int
    name: str
    protocol: str
    site_code: str | None
    created_at: datetime
