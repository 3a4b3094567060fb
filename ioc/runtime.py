"""The platform's long-lived resources, opened once per process from the settings.

`ioc serve` opens one :class:`Platform` and hands it to every service it runs, so the API, the
ingest, the collectors and the scheduler share one database pool and one telemetry writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from device_registry.db import create_engine, session_factory
from ioc.home import prepare_home, prepare_sqlite_file, warn_if_readable_by_others
from ioc.settings import Settings
from monitors.events import EventBus

if TYPE_CHECKING:
    # Imported where used, not here: every CLI command opens a Platform, few need HTTP or the writer.
    from device_registry.crypto import SecretBox
    from device_registry.schemas.health import ServiceReport
    from telemetry.config import WriterConfig
    from telemetry.writer import TelemetryWriter


def secret_box(settings: Settings, *, create: bool = False) -> SecretBox:
    from device_registry.crypto import SecretBox, load_or_create_key_file

    key = settings.secret_key
    if key is None:
        key = load_or_create_key_file(settings.secret_key_file, create=create)
        warn_if_readable_by_others(settings.secret_key_file)
    return SecretBox(key)


def writer_config(settings: Settings) -> WriterConfig:
    """The telemetry writer's typed config from the flat ``IOC_INFLUX_*`` settings."""
    from telemetry.config import WriterConfig
    from telemetry.influx_output import InfluxTarget

    target = None
    if settings.influx_url:
        # Each InfluxTarget field is the setting of the same name behind ``influx_``.
        target = InfluxTarget(**{f.name: getattr(settings, f"influx_{f.name}") for f in fields(InfluxTarget)})
    return WriterConfig(
        spool_dir=settings.spool_dir,
        target=target,
        batch_size=settings.influx_batch_size,
        flush_interval=settings.influx_flush_interval,
        spool_max_bytes=settings.telemetry_spool_max_bytes,
    )


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secret: SecretBox | None = field(default=None)
    """Read at :meth:`open` (a missing key fails there), or at first use of :attr:`box` when opened
    ``with_secret=False``: an ingest worker never uses it, and ``cryptography`` costs it ~9 MiB RSS."""
    writer: TelemetryWriter | None = field(default=None)
    """Started by :meth:`start_writer` in serving processes; CLI one-shots leave it unset."""
    service_report: ServiceReport | None = field(default=None)
    """Set by ``ioc serve``: each supervised service's state, for ``/api/v1/health``."""
    bus: EventBus = field(default_factory=EventBus)
    """Device state changes: the monitors publish, alerting subscribes (before the services start)."""

    @classmethod
    def open(cls, settings: Settings, *, create_key: bool = False, with_secret: bool = True) -> Platform:
        prepare_home(settings.home)
        prepare_sqlite_file(settings.effective_database_url)
        engine = create_engine(settings.effective_database_url, pool_pre_ping=True)
        box = secret_box(settings, create=create_key) if with_secret or create_key else None
        return cls(settings, engine, session_factory(engine), box)

    @property
    def box(self) -> SecretBox:
        if self.secret is None:
            self.secret = secret_box(self.settings)
        return self.secret

    async def start_writer(self) -> TelemetryWriter:
        from telemetry.writer import TelemetryWriter

        if self.writer is None:
            self.writer = TelemetryWriter(writer_config(self.settings))
            await self.writer.start()
        return self.writer

    async def close(self) -> None:
        if self.writer is not None:
            await self.writer.stop()
            self.writer = None
        await self.engine.dispose()


async def seal_clear_secrets(platform: Platform) -> int:
    """Seal the secrets earlier versions stored in clear (alert channels' apprise URLs); returns how many.

    This is data migration that Alembic cannot do: migrations run without the secret key. ``ioc
    migrate`` and every start of ``ioc serve`` call it, after the schema migrations, so an upgraded
    installation holds no clear URL from its first start on. Idempotent and cheap when nothing is left.
    """
    from device_registry.db import transaction
    from monitors.alerting.channel_urls import ChannelUrls, seal_clear_urls

    async with transaction(platform.sessions) as session:
        return await seal_clear_urls(session, ChannelUrls(platform.box))
