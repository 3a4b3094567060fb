"""Outage records in the registry database: the SQL ``OutageRecorder`` and the SLA's reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import transaction
from monitors.events import DeviceState
from monitors.models import Outage, OutageStateChange
from monitors.outages import HistoryEntry, OutageRecord
from monitors.state import is_hard_change


class SqlOutageRecorder:
    """Implements ``monitors.state.OutageRecorder``; each call is one short transaction.

    State changes are rare next to checks (a handful per outage), so a transaction per change keeps
    records exact without batching machinery. But they come in bursts: a district cut turns a
    hundred devices UNREACHABLE at once, and each transaction holds a pooled connection while it
    waits for the database's write lock (SQLite has one writer). Unbounded, such a burst took all 15
    of the pool's connections in a province demo and the MQTT ingest's device lookup timed out
    waiting for one; at most ``max_writers`` transactions of this recorder run at a time.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_writers: int = 2) -> None:
        self._sessions = sessions
        self._writers = asyncio.Semaphore(max_writers)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._writers, transaction(self._sessions) as session:
            yield session

    async def open(
        self, device_id: int, root_cause_device_id: int, state: DeviceState, start: datetime, reason: str
    ) -> int:
        async with self._transaction() as session:
            outage = Outage(
                device_id=device_id,
                root_cause_device_id=root_cause_device_id,
                state=state.value,
                started_at=start,
                affected_count=0,
                reason=reason,
            )
            session.add(outage)
            await session.flush()
            session.add(OutageStateChange(outage_id=outage.id, state=state.value, at=start, reason=reason))
            return outage.id

    async def transition(
        self, outage_id: int, state: DeviceState, at: datetime, reason: str, root_cause_device_id: int
    ) -> None:
        async with self._transaction() as session:
            await session.execute(
                update(Outage)
                .where(Outage.id == outage_id)
                .values(state=state.value, root_cause_device_id=root_cause_device_id)
            )
            session.add(OutageStateChange(outage_id=outage_id, state=state.value, at=at, reason=reason))

    async def set_affected(self, outage_id: int, count: int) -> None:
        async with self._transaction() as session:
            await session.execute(update(Outage).where(Outage.id == outage_id).values(affected_count=count))

    async def close(self, outage_id: int, end: datetime, reason: str) -> None:
        async with self._transaction() as session:
            outage = await session.get(Outage, outage_id)
            if outage is None:
                return
            outage.ended_at = end
            outage.duration_s = (end - outage.started_at).total_seconds()
            session.add(
                OutageStateChange(outage_id=outage_id, state=DeviceState.UP.value, at=end, reason=reason)
            )


async def load_outages(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    device_ids: Iterable[int] | None = None,
    *,
    with_history: bool = False,
) -> list[OutageRecord]:
    """Outages overlapping ``[start, end)``, optionally only for ``device_ids``."""
    query = select(Outage).where(
        Outage.started_at < end, or_(Outage.ended_at.is_(None), Outage.ended_at > start)
    )
    if device_ids is not None:
        query = query.where(Outage.device_id.in_(list(device_ids)))
    rows = (await session.scalars(query.order_by(Outage.started_at, Outage.id))).all()
    records = [
        OutageRecord(
            id=row.id,
            device_id=row.device_id,
            root_cause_device_id=row.root_cause_device_id
            if row.root_cause_device_id is not None
            else row.device_id,
            start=row.started_at,
            end=row.ended_at,
            affected_count=row.affected_count,
        )
        for row in rows
    ]
    if with_history and records:
        by_id = {r.id: r for r in records}
        history = await session.scalars(
            select(OutageStateChange)
            .where(OutageStateChange.outage_id.in_(list(by_id)))
            .order_by(OutageStateChange.at, OutageStateChange.id)
        )
        for entry in history:
            by_id[entry.outage_id].history.append(
                HistoryEntry(DeviceState(entry.state), entry.at, entry.reason)
            )
    return records


@dataclass(frozen=True, slots=True)
class OpenOutage:
    outage_id: int
    start: datetime
    state: DeviceState
    """The device's state as of the outage's last change (written at every transition)."""
    root_cause_device_id: int | None
    changed_at: datetime


async def open_outages(session: AsyncSession) -> dict[int, OpenOutage]:
    """Each device's open outage (the newest, should a crash have left two) with its last change."""
    last_change = (
        select(OutageStateChange.outage_id, func.max(OutageStateChange.at).label("at"))
        .group_by(OutageStateChange.outage_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Outage.device_id,
            Outage.id,
            Outage.started_at,
            Outage.state,
            Outage.root_cause_device_id,
            last_change.c.at,
        )
        .outerjoin(last_change, last_change.c.outage_id == Outage.id)
        .where(Outage.ended_at.is_(None))
        .order_by(Outage.started_at, Outage.id)
    )
    return {
        device_id: OpenOutage(outage_id, start, DeviceState(state), root, changed_at or start)
        for device_id, outage_id, start, state, root, changed_at in rows.all()
    }


async def hard_changes(session: AsyncSession, since: datetime) -> dict[int, list[datetime]]:
    """Per device, the times it went into or out of DOWN since ``since``, rebuilt from outage history
    (what flapping detection counts). Entering DOWN is dated at the outage's first failure and leaving
    it at the first success, the times the history keeps, not when the engine confirmed them."""
    rows = await session.execute(
        select(Outage.device_id, OutageStateChange.outage_id, OutageStateChange.state, OutageStateChange.at)
        .join(Outage, Outage.id == OutageStateChange.outage_id)
        .where(or_(Outage.ended_at.is_(None), Outage.ended_at >= since))
        .order_by(OutageStateChange.outage_id, OutageStateChange.at, OutageStateChange.id)
    )
    changes: dict[int, list[datetime]] = {}
    previous: dict[int, DeviceState] = {}
    for device_id, outage_id, state, at in rows.all():
        new = DeviceState(state)
        before = previous.get(outage_id, DeviceState.UP)  # an outage starts from UP
        previous[outage_id] = new
        if at >= since and is_hard_change(before, new):
            changes.setdefault(device_id, []).append(at)
    for times in changes.values():
        times.sort()
    return changes
