"""The platform's long-lived resources, opened once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox, load_or_create_key_file
from device_registry.db import create_engine, session_factory
from ioc.settings import Settings


def secret_box(settings: Settings, *, create: bool = False) -> SecretBox:
    key = settings.secret_key or load_or_create_key_file(settings.secret_key_file, create=create)
    return SecretBox(key)


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox

    @classmethod
    def open(cls, settings: Settings, *, create_key: bool = False) -> Platform:
        settings.home.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.effective_database_url, pool_pre_ping=True)
        return cls(settings, engine, session_factory(engine), secret_box(settings, create=create_key))

    async def close(self) -> None:
        await self.engine.dispose()
