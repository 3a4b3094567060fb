"""The site tree: administrative units and buildings, with validity intervals.

A re-organisation never deletes or renames a unit: it closes the old one (``valid_to``) and opens new
ones, recording who succeeded whom, so history and old names stay searchable.
``path`` is a materialised path of ids ("/1/7/42/") that makes subtree filters one indexed LIKE.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime, utcnow


class SiteKind(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"
    TOWNSHIP = "township"
    SITE = "site"


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("code_scheme", "code_version", "code"),
        Index("ix_sites_path", "path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[SiteKind] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64), index=True)
    code_scheme: Mapped[str] = mapped_column(String(32), default="local")
    code_version: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), index=True)
    admin_type: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_open(self) -> bool:
        return self.valid_to is None


class SiteSuccession(Base):
    """Old unit -> new unit. A divided commune has several successors; ``is_primary`` marks where its
    devices go by default."""

    __tablename__ = "site_successions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    effective: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(64))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
