"""All settings in one typed object.

Sources, highest first: environment (``IOC_`` prefix, ``__`` for nested fields), then ``ioc.toml``
(``IOC_CONFIG`` names it; otherwise ``./ioc.toml``, then ``$IOC_HOME/ioc.toml``), then defaults.
``IOC_HOME`` holds the embedded defaults: the SQLite database, the telemetry spool and the secret key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from monitors.alerting.config import AlertingSettings
from monitors.config import MonitorSettings
from provisioning.mqtt.settings import MqttSettings
from provisioning.mqtt.url import MqttUrl
from provisioning.onvif.settings import OnvifSettings
from provisioning.snmp.settings import SnmpSettings

if TYPE_CHECKING:
    # Imported where used: the registry's user service (and its schemas) is not needed to read settings,
    # and every ``ioc`` command reads them.
    from device_registry.services.users import TokenLifetime


def default_home() -> Path:
    """``$XDG_DATA_HOME/ioc``, falling back to ``~/.local/share/ioc`` as the XDG spec says."""
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "ioc"


def _config_file() -> Path | None:
    named = os.environ.get("IOC_CONFIG")
    if named:
        return Path(named)
    for candidate in (Path("ioc.toml"), Path(os.environ.get("IOC_HOME") or default_home()) / "ioc.toml"):
        if candidate.is_file():
            return candidate
    return None


class ApiSettings(BaseSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    page_size_max: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=1024**3, description="Largest request body (413 beyond it)."
    )
    max_import_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest body of an authenticated POST /api/v1/devices/import.",
    )


class TokenSettings(BaseSettings):
    """Every API token expires (``ioc users token --expires``, ``POST /me/tokens``)."""

    default_lifetime_days: int = Field(default=90, ge=1, le=3650, description="When none is asked for.")
    max_lifetime_days: int = Field(default=365, ge=1, le=3650, description="Never longer.")

    @model_validator(mode="after")
    def _ordered(self) -> TokenSettings:
        if self.default_lifetime_days > self.max_lifetime_days:
            raise ValueError("default_lifetime_days must not exceed max_lifetime_days")
        return self

    @property
    def lifetime(self) -> TokenLifetime:
        from device_registry.services.users import TokenLifetime

        return TokenLifetime(
            timedelta(days=self.default_lifetime_days), timedelta(days=self.max_lifetime_days)
        )


class ServeSettings(BaseSettings):
    """How `ioc serve` restarts a failed service: capped exponential backoff (ioc/supervisor.py)."""

    restart_initial_s: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    restart_max_s: float = Field(default=60.0, gt=0, le=86400, allow_inf_nan=False)


class Settings(BaseSettings):
    # hide_input_in_errors: URLs (database, MQTT) carry passwords; a bad value must not echo them.
    model_config = SettingsConfigDict(
        env_prefix="IOC_",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
        allow_inf_nan=False,
    )

    home: Path = Field(default_factory=default_home)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite in IOC_HOME/registry.db"
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Fernet key for credentials at rest; default: IOC_HOME/secret.key"
    )
    log_level: str = "INFO"
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token a Prometheus scraper may use for /metrics (admins' tokens work too)",
    )
    api: ApiSettings = Field(default_factory=ApiSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    tokens: TokenSettings = Field(default_factory=TokenSettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    monitors: MonitorSettings = Field(default_factory=MonitorSettings)
    mqtt_url: Annotated[MqttUrl | None, NoDecode] = Field(
        default=None, description="Broker for the platform (ingest, commands): mqtt[s]://user:pass@host:port"
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    snmp: SnmpSettings = Field(default_factory=SnmpSettings)
    onvif: OnvifSettings = Field(default_factory=OnvifSettings)

    # Telemetry writer (docs/telemetry.md). Flat fields so the documented names IOC_INFLUX_URL etc. work
    # as-is; ioc.runtime.writer_config turns them into the writer's typed config.
    influx_url: str | None = Field(default=None, description="InfluxDB base URL; unset: spool only")
    influx_api: Literal["v1", "v2"] = "v1"
    influx_database: str | None = None
    influx_retention_policy: str | None = None
    influx_bucket: str | None = None
    influx_org: str | None = None
    influx_token: SecretStr | None = None
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    influx_gzip: bool = True
    influx_timeout: float = Field(default=10.0, gt=0)
    influx_batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    influx_flush_interval: float = Field(default=0.2, gt=0, description="seconds a partial batch waits")
    telemetry_spool_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    ingest_worker: int | None = Field(
        default=None,
        ge=0,
        le=63,
        description="set by `ioc serve --only ingest --workers N` per worker: own client id and spool",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'registry.db'}"

    @property
    def display_database_url(self) -> str:
        """The database URL with its password replaced by ``***``: the one to print or log."""
        return make_url(self.effective_database_url).render_as_string(hide_password=True)

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def spool_dir(self) -> Path:
        """A writer owns its spool folder, so each ingest worker has its own."""
        if self.ingest_worker is not None:
            return self.home / f"spool-ingest-{self.ingest_worker}"
        return self.home / "spool"
