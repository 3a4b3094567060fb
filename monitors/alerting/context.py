"""The dependencies every alerting step shares, bundled once by whoever assembles the service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from device_registry.db import transaction
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.clock import Clock, SystemClock
from monitors.alerting.config import AlertingSettings
from monitors.alerting.directory import DeviceDirectory, SiteDirectory
from monitors.alerting.messages import MessageRenderer


@dataclass
class AlertingContext:
    sessions: async_sessionmaker[AsyncSession]
    sites: SiteDirectory
    devices: DeviceDirectory
    box: SecretBox
    """The platform's secret box: channel URLs are sealed with it (monitors/alerting/channel_urls.py)."""
    settings: AlertingSettings = field(default_factory=AlertingSettings)
    clock: Clock = field(default_factory=SystemClock)
    renderer: MessageRenderer | None = None
    _write_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    channel_urls: ChannelUrls = field(init=False, repr=False)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """One write transaction at a time within this process.

        The event consumer, the outbox worker and the escalator all write; on SQLite concurrent writers
        wait in SQLite's sleeping busy handler (milliseconds each time), which during an outage storm
        cost more than the work. Taking turns here is cheaper, and harmless on PostgreSQL.
        """
        async with self._write_lock, transaction(self.sessions) as session:
            yield session

    def __post_init__(self) -> None:
        self.channel_urls = ChannelUrls(self.box)
        if self.renderer is None:
            self.renderer = MessageRenderer(
                timezone=self.settings.timezone, user_dir=self.settings.templates_dir
            )

    @property
    def messages(self) -> MessageRenderer:
        assert self.renderer is not None
        return self.renderer

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @property
    def annotations_enabled(self) -> bool:
        return self.settings.grafana.url is not None
