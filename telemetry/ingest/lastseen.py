"""When each device last sent anything, for the monitors' freshness check.

Updating a row per message would cost a write per message; instead :meth:`LastSeenStore.touch` keeps
the newest time per device in memory and :meth:`flush` upserts them all in one transaction. The
ingest flushes every few seconds and on stop, so freshness lags by at most the flush interval.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import transaction
from telemetry.ingest.models import DeviceLastSeen
from telemetry.ingest.timeutil import from_epoch


class LastSeenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: dict[int, float] = {}

    def touch(self, device_id: int, when: float) -> None:
        if when > self._pending.get(device_id, 0.0):
            self._pending[device_id] = when

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Upsert every pending device (never moving a time backwards); returns how many."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            async with transaction(self._sessions) as session:
                dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                statement = insert(DeviceLastSeen).values(
                    [{"device_id": device, "seen_at": from_epoch(when)} for device, when in batch.items()]
                )
                statement = statement.on_conflict_do_update(
                    index_elements=[DeviceLastSeen.device_id],
                    set_={
                        "seen_at": case(
                            (statement.excluded.seen_at > DeviceLastSeen.seen_at, statement.excluded.seen_at),
                            else_=DeviceLastSeen.seen_at,
                        )
                    },
                )
                await session.execute(statement)
        except BaseException:
            for device, when in batch.items():  # keep them for the next flush
                self.touch(device, when)
            raise
        return len(batch)


async def last_seen(
    sessions: async_sessionmaker[AsyncSession], device_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    query = select(DeviceLastSeen.device_id, DeviceLastSeen.seen_at)
    if device_ids is not None:
        query = query.where(DeviceLastSeen.device_id.in_(list(device_ids)))
    async with sessions() as session:
        return {device: seen for device, seen in (await session.execute(query)).all()}


class LastSeenLookup:
    """Per-device "when was it last heard" for the monitors' freshness check, answered from one read of
    the whole table at most every ``max_age_s`` (thousands of sensors, one query)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_age_s: float = 10.0) -> None:
        self._sessions = sessions
        self._max_age_s = max_age_s
        self._seen: dict[int, datetime] = {}
        self._read_at = float("-inf")

    async def __call__(self, device_id: int) -> datetime | None:
        now = time.monotonic()
        if now - self._read_at > self._max_age_s:
            self._seen = await last_seen(self._sessions)
            self._read_at = now
        return self._seen.get(device_id)
