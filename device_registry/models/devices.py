"""Devices, their uplinks (a DAG, redundant parents allowed), tags, site history and credentials."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime, utcnow


class DeviceKind(enum.StrEnum):
    CAMERA = "camera"
    NVR = "nvr"
    SWITCH = "switch"
    ROUTER = "router"
    FIREWALL = "firewall"
    UPS = "ups"
    SENSOR = "sensor"
    GATEWAY = "gateway"
    OTHER = "other"


class Protocol(enum.StrEnum):
    ONVIF = "onvif"
    SNMP = "snmp"
    MQTT = "mqtt"
    ICMP = "icmp"


class Lifecycle(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


PRIVATE_PREFIX = "device/"
"""``device/N`` is device N's own credential: no other device may ever reference it."""


class Credential(Base):
    """A named credential; ``secret`` is the Fernet token of the whole typed credential as JSON.

    A shared credential belongs to ``site_id``: only devices in that subtree may use it, and only users
    whose scope covers that site may list or reference it. ``site_id`` NULL is a registry-wide
    credential, for unscoped users only. A private one (``device/N``) has no site: its device owns it."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    protocol: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def private_owner(self) -> int | None:
        """The device id of a private credential, else None."""
        rest = self.name.removeprefix(PRIVATE_PREFIX)
        return int(rest) if rest != self.name and rest.isdigit() else None


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    name_folded: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[DeviceKind] = mapped_column(String(16), index=True)
    protocols: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str | None] = mapped_column(String(255), index=True)
    port: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    vendor: Mapped[str | None] = mapped_column(String(128), index=True)
    model: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[str | None] = mapped_column(String(128))
    firmware: Mapped[str | None] = mapped_column(String(128))
    lifecycle: Mapped[Lifecycle] = mapped_column(String(16), default=Lifecycle.ACTIVE, index=True)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"), index=True)
    description: Mapped[str | None] = mapped_column(String(1024))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeviceUplink(Base):
    __tablename__ = "device_uplinks"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    uplink_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_device_uplinks_uplink_id", "uplink_id"),)


class DeviceTag(Base):
    __tablename__ = "device_tags"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    __table_args__ = (Index("ix_device_tags_tag", "tag"),)


class DeviceSiteHistory(Base):
    """Which site a device stood in, and when; the open row (valid_to NULL) is the current one."""

    __tablename__ = "device_site_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(128), default="")
