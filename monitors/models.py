"""Tables of the monitors: outages with their state history, and maintenance windows.

On the registry's one ``Base`` so the single Alembic history covers them (migration
``ioc/migrations/versions/monitors_0001.py``). Times are the registry's ``UTCDateTime``: always aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Table, Text
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


class DeviceStatusRow(Base):
    """A device's current state and the last result of each of its checks, as the monitors last saw it.

    Written by ``monitors.status_store`` in one batched upsert per scheduler tick, read by the status
    API and page. ``since`` survives a restart of the monitors while the state stays the same.
    """

    __tablename__ = "monitor_device_status"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    in_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    root_cause_device_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``[{"check", "ok", "latency_ms", "reason", "error_kind"}, ...]`` of the last round."""


MONITOR_TABLES: list[Table] = [
    Base.metadata.tables[name]
    for name in (
        "monitor_outages",
        "monitor_outage_history",
        "monitor_maintenance_windows",
        "monitor_device_status",
    )
]
