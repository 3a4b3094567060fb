"""What the MQTT client is given (our own dataclasses, never aiomqtt objects), what onboarding stored
about a sensor (:class:`MqttFacts`, ``device.attributes["mqtt"]`` through ``provisioning.facts``), and
the broker's credential store (:class:`MqttCredential`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import SecretStr
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from device_registry.db import Base
from device_registry.models.types import UTCDateTime
from provisioning.endpoint import split_host_port
from provisioning.facts import Facts


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


class MqttFacts(Facts):
    """How a sensor talks to the platform: the broker user name, the topic prefix it publishes under
    (``{topic_prefix}/telemetry`` ...), and when its credential was issued and revoked. The password
    hash is not a fact: it stays in :class:`MqttCredential`."""

    protocol: ClassVar[str] = "mqtt"

    version: Literal[1] = 1
    username: str
    topic_prefix: str
    credential_issued_at: datetime
    credential_revoked_at: datetime | None = None


class MqttCredential(Base):
    """The broker's verifier per device: the MQTT counterpart of the registry's credential store.

    One Mosquitto password hash (PBKDF2, one-way) per device, from which the broker's password file is
    rebuilt (``sync.py``) and which the ingest workers read to know live senders. Not in the shared
    ``credentials`` table: that one holds named, reusable, Fernet-sealed secrets the platform must be
    able to read back and lists them through the API; this is one device's verifier that nobody can
    read back, needed by processes that hold no Fernet key. Not in ``attributes`` either: those are
    returned by the device API. ``created_at`` / ``revoked_at`` are mirrored in :class:`MqttFacts`.
    """

    __tablename__ = "mqtt_credentials"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
