from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from device_registry.models import SiteKind
from device_registry.schemas.bounds import Latitude, Longitude, RowId
from device_registry.schemas.common import PlainText


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    name: PlainText = Field(min_length=1, max_length=255)
    kind: SiteKind
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")
    code_scheme: str = Field(default="local", min_length=1, max_length=32)
    code_version: str = Field(default="", max_length=32)
    parent_code: str | None = None
    parent_id: RowId | None = None
    admin_type: str | None = Field(default=None, max_length=64)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    valid_from: date | None = None

    @model_validator(mode="after")
    def _one_parent(self) -> SiteCreate:
        if self.parent_code is not None and self.parent_id is not None:
            raise ValueError("give parent_code or parent_id, not both")
        return self


class SiteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    name: PlainText | None = Field(default=None, min_length=1, max_length=255)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    admin_type: str | None = Field(default=None, max_length=64)


class SiteClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_to: date
    successor_code: str | None = None


class SitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    kind: SiteKind
    code: str
    code_scheme: str
    code_version: str
    name: str
    admin_type: str | None
    latitude: float | None
    longitude: float | None
    valid_from: date | None
    valid_to: date | None
    depth: int
    path_names: list[str] = []
    successor_codes: list[str] = []
    created_at: datetime
