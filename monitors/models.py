"""Tables of the monitors: outages with their state history, and maintenance windows.

On the registry's one ``Base`` so the single Alembic history covers them (migration
``ioc/migrations/versions/monitors_0001.py``). Times are the registry's ``UTCDateTime``: always aware.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

import device_registry.models  # noqa: F401  (devices/sites must be on the metadata for the foreign keys)
from device_registry.db import Base
from device_registry.models.types import UTCDateTime, utcnow


class Outage(Base):
    """One stretch of a device being DOWN or UNREACHABLE: from the first failed check to the first
    successful one. ``root_cause_device_id`` is the device itself for a root outage."""

    __tablename__ = "monitor_outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    root_cause_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    duration_s: Mapped[float | None] = mapped_column(Float)
    affected_count: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")


class OutageStateChange(Base):
    __tablename__ = "monitor_outage_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("monitor_outages.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class MaintenanceWindowRow(Base):
    """See ``monitors.maintenance.MaintenanceWindow`` for the rules; this is its stored form."""

    __tablename__ = "monitor_maintenance_windows"
    __table_args__ = (CheckConstraint("(device_id IS NULL) <> (site_id IS NULL)", name="one_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cron: Mapped[str | None] = mapped_column(String(120))
    duration_s: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MONITOR_TABLES: list[Table] = [
    Base.metadata.tables[name]
    for name in ("monitor_outages", "monitor_outage_history", "monitor_maintenance_windows")
]
