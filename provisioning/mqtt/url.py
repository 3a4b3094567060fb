"""``IOC_MQTT_URL`` (``mqtt://user:pass@host:port``, ``mqtts://`` for TLS) as a typed setting.

An optional ``?client_id=NAME`` names this process's persistent MQTT session; every ingest instance
needs its own stable one (docs/mqtt.md, scale-out).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from provisioning.mqtt.models import MqttEndpoint


class MqttUrl(BaseModel):
    # The raw URL holds the password: never echo it in a validation error.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    tls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return parse_mqtt_url(value)

    def endpoint(self) -> MqttEndpoint:
        """The broker and login this URL names, for a client session (discovery, probes)."""
        return MqttEndpoint(
            self.host, self.port, tls=self.tls, username=self.username, password=self.password
        )

    def __str__(self) -> str:
        """The URL with the password masked: safe for logs."""
        auth = (
            f"{self.username}:**********@"
            if self.password
            else (f"{self.username}@" if self.username else "")
        )
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"


def parse_mqtt_url(text: str) -> dict[str, Any]:
    """Split the URL; errors name the part that is wrong and never echo the password."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError("IOC_MQTT_URL: port is not a number in 1..65535") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"IOC_MQTT_URL: scheme must be mqtt or mqtts, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("IOC_MQTT_URL: host is missing")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("IOC_MQTT_URL: must not have a path or fragment")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"client_id"})
    if unknown:
        raise ValueError(f"IOC_MQTT_URL: unknown query parameter(s) {unknown}; only client_id is known")
    tls = parts.scheme == "mqtts"
    return {
        "host": parts.hostname,
        "port": port or MqttEndpoint.default_port(tls),
        "tls": tls,
        "username": unquote(parts.username) if parts.username else None,
        "password": SecretStr(unquote(parts.password)) if parts.password is not None else None,
        "client_id": query["client_id"][-1] if "client_id" in query else None,
    }
