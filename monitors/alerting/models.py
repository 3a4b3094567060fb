"""Alerting's tables: teams and where they are paged, routes, alerts, acknowledgements and the outbox.

The outbox is the only path to the outside world: a notification or a Grafana annotation is a row
written in the same transaction as the alert change that caused it, and a worker delivers it later.
That is what makes an SMTP, webhook or Grafana outage lose nothing, and the unique idempotency key
(event id + channel) is what makes a redelivered event send nothing twice.

Alerts keep ``device_id`` without a foreign key on purpose: alert history must outlive a device that is
later deleted from the registry.
"""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertKind(enum.StrEnum):
    DOWN = "down"
    FLAPPING = "flapping"


class Language(enum.StrEnum):
    VI = "vi"
    EN = "en"


class OutboxKind(enum.StrEnum):
    NOTIFY = "notify"
    ANNOTATION_OPEN = "annotation_open"
    ANNOTATION_CLOSE = "annotation_close"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Permanent failure (the channel was deleted, Grafana rejected the request): retrying cannot help."""
    CANCELLED = "cancelled"
    """Held by quiet hours and the outage ended before they did: nobody needs to hear of it any more."""


class Team(Base):
    __tablename__ = "alert_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    language: Mapped[str] = mapped_column(String(8), default=Language.VI)


class TeamMember(Base):
    __tablename__ = "alert_team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("alert_teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Channel(Base):
    """One apprise URL owned by a team. ``url`` may hold a password or bot token: never log it."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("alert_teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    """Local (Asia/Ho_Chi_Minh) quiet hours; alerts below ``critical`` wait until they end."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Route(Base):
    """Match by site subtree, device kind and severity; the most specific matching route wins."""

    __tablename__ = "alert_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("alert_teams.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(Integer)
    """Root of the matched subtree; None matches every site (the province-wide fallback)."""
    device_kind: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16))
    """Minimum severity matched; None matches all."""


class EscalationStep(Base):
    """After ``after_minutes`` unacknowledged, page ``team_id`` (all its channels) or one ``channel_id``."""

    __tablename__ = "alert_escalation_steps"
    __table_args__ = (UniqueConstraint("route_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("alert_routes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    after_minutes: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("alert_teams.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("alert_channels.id", ondelete="CASCADE"))


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open_device", "device_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(128), index=True)
    """``outage:<id>`` when the monitors gave one, else ``device:<id>``: one open alert per key."""
    opened_by: Mapped[str] = mapped_column(String(128), index=True)
    """``event_id`` of the event that fired it: a late redelivery of that event opens nothing."""
    device_id: Mapped[int] = mapped_column(Integer, index=True)
    outage_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default=AlertKind.DOWN)
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.FIRING, index=True)
    severity: Mapped[str] = mapped_column(String(16))
    route_id: Mapped[int | None] = mapped_column(ForeignKey("alert_routes.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("alert_teams.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    """User id of a manual resolution; None when the monitors saw the device come back."""
    reason: Mapped[str] = mapped_column(Text, default="")
    affected_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_events: Mapped[int] = mapped_column(Integer, default=0)
    """Events folded into this alert instead of paging again (flapping, repeated DOWN)."""
    annotation_id: Mapped[int | None] = mapped_column(Integer)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Device name, kind, site path and codes as they were when the alert fired (for messages)."""


class Acknowledgement(Base):
    __tablename__ = "alert_acknowledgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    lane: Mapped[str] = mapped_column(String(64))
    """``channel:<id>`` or ``grafana``: rows of one alert in one lane are delivered in order."""
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("alert_channels.id", ondelete="SET NULL"))
    message_kind: Mapped[str] = mapped_column(String(32), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """End of the quiet hours this message waits for, if any."""
    note: Mapped[str | None] = mapped_column(Text)
    """Why this row looks the way it does: a template fallback, a quiet-hours deferral."""


class Delivery(Base):
    """Every attempt at an outbox row, with its result: the audit trail of who was told what, when."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("alert_outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


ALERTING_TABLES: list[Table] = [
    Base.metadata.tables[name]
    for name in (
        "alert_teams",
        "alert_team_members",
        "alert_channels",
        "alert_routes",
        "alert_escalation_steps",
        "alerts",
        "alert_acknowledgements",
        "alert_outbox",
        "alert_deliveries",
    )
]
