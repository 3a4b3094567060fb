"""The ingest's device directory under a burst: callers that find it stale together share one refresh,
so a burst from many sensors cannot take more pooled connections than the one refresh needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from telemetry.ingest.directory import CredentialDirectory
from tests.mqtt.conftest import onboard


async def test_a_burst_of_lookups_on_a_stale_directory_shares_one_refresh_within_a_one_connection_pool(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    sensors = await onboard(sessions, 3)
    # One connection, no overflow, and a short wait: a second concurrent refresh would time out.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}", pool_size=1, max_overflow=0, pool_timeout=0.5
    )
    try:
        directory = CredentialDirectory(async_sessionmaker(engine))
        refreshes = 0
        refresh = directory.refresh

        async def counted() -> None:
            nonlocal refreshes
            refreshes += 1
            await refresh()

        directory.refresh = counted  # type: ignore[method-assign]
        ids = [device for device, _ in sensors] * 40 + [999_999] * 40  # 160 lookups, some unknown
        answers = await asyncio.gather(*(directory.is_known(device) for device in ids))
        assert answers == [device != 999_999 for device in ids]
        assert refreshes == 1
        assert directory.tags(sensors[0][0])["device_id"] == str(sensors[0][0])
    finally:
        await engine.dispose()
