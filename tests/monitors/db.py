"""A throwaway SQLite registry database holding the monitors' tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from device_registry.db import Base, create_engine
from monitors.models import MONITOR_TABLES


def registry_tables() -> tuple[Table, Table]:
    """The registry's ``devices``/``sites``; minimal stand-ins until the foundation's models are merged."""
    try:
        import device_registry.models  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        for name in ("devices", "sites"):
            if name not in Base.metadata.tables:
                Table(name, Base.metadata, Column("id", Integer, primary_key=True))
    return Base.metadata.tables["devices"], Base.metadata.tables["sites"]


async def monitors_database(path: Path, device_ids: list[int], site_ids: list[int]) -> AsyncEngine:
    devices, sites = registry_tables()
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=[devices, sites, *MONITOR_TABLES]))
        if site_ids:
            await conn.execute(insert(sites), [{"id": i} for i in site_ids])
        if device_ids:
            await conn.execute(insert(devices), [{"id": i} for i in device_ids])
    return engine
