"""What the MQTT client is given (our own dataclasses, never aiomqtt objects), and the MQTT tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from pydantic import SecretStr
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime
from provisioning.endpoint import split_host_port


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """A broker to connect to. The password never appears in ``repr`` or :attr:`label`."""

    DEFAULT_PORT: ClassVar[int] = 1883
    TLS_PORT: ClassVar[int] = 8883

    host: str
    port: int = DEFAULT_PORT
    tls: bool = False
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    timeout: float = 5.0

    @classmethod
    def default_port(cls, tls: bool) -> int:
        return cls.TLS_PORT if tls else cls.DEFAULT_PORT

    @classmethod
    def split(cls, target: str, *, tls: bool = False) -> tuple[str, int]:
        return split_host_port(target, cls.default_port(tls))

    @property
    def label(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


class MqttCredential(Base):
    __tablename__ = "mqtt_credentials"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
