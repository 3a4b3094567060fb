"""The ingest's tables: when each device was last heard, and the payloads it refused (dead letters)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime


class DeviceLastSeen(Base):
    __tablename__ = "mqtt_last_seen"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetter(Base):
    __tablename__ = "mqtt_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    topic: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)
