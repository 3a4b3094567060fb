"""A :class:`Platform` on a fresh migrated SQLite registry, as ``ioc serve`` opens it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from device_registry.crypto import generate_key
from ioc.migrate import upgrade
from ioc.runtime import Platform
from ioc.settings import Settings


@asynccontextmanager
async def sqlite_platform(folder: Path, **settings: Any) -> AsyncIterator[Platform]:
    """``settings`` are extra ``Settings`` fields (``snmp=SnmpSettings(...)``); closed on exit."""
    db_url = f"sqlite+aiosqlite:///{folder / 'registry.db'}"
    await asyncio.to_thread(upgrade, db_url)
    opened = Platform.open(
        Settings(home=folder / "home", database_url=db_url, secret_key=generate_key(), **settings)
    )
    try:
        yield opened
    finally:
        await opened.close()
