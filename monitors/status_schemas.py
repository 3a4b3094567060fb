"""Public shapes of the status and outage routes (the CLI's ``--json`` prints the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from device_registry.schemas.devices import OperState


class SiteFields(Protocol):
    """A ``Site`` row or the status queries' lighter ``SiteInfo``."""

    @property
    def id(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


class StateCounts(BaseModel):
    up: int = 0
    soft_down: int = 0
    down: int = 0
    unreachable: int = 0
    flapping: int = 0
    maintenance: int = 0
    unknown: int = 0
    total: int = 0


class SiteBrief(BaseModel):
    id: int
    parent_id: int | None
    code: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, site: SiteFields) -> SiteBrief:
        return cls(
            id=site.id,
            parent_id=site.parent_id,
            code=site.code,
            name=site.name,
            kind=str(site.kind),
            latitude=site.latitude,
            longitude=site.longitude,
        )


class SiteStatus(BaseModel):
    site: SiteBrief | None
    """None for the whole tree (several top-level sites and no ``site`` asked for)."""
    counts: StateCounts
    worst: OperState | None
    """The worst state of any device in it (down first, up last); None without devices."""


class StatusPublic(SiteStatus):
    children: list[SiteStatus]
    communes: list[SiteStatus] | None = None
    """Every commune-level unit below (for a map), when asked for with ``communes=true``."""


class AffectedPublic(BaseModel):
    device_id: int
    name: str
    kind: str
    site_code: str
    state: str
    since: datetime


class OutagePublic(BaseModel):
    id: int
    device_id: int
    device_name: str
    device_kind: str
    site_code: str
    site_name: str
    state: str
    start: datetime
    end: datetime | None
    duration_s: float
    """Up to now for an open outage."""
    reason: str
    affected_count: int
    affected: list[AffectedPublic]
    """Devices cut off behind this one (UNREACHABLE, suppressed: nobody is paged for them)."""
    alert_id: int | None
    alert_status: str | None
