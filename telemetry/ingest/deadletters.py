"""Dead letters: every payload the ingest (or an import) refused, with the reason, kept for diagnosis.

The table is bounded: each insert prunes rows older than the newest ``max_rows`` by id, which is
cheap (primary-key range delete) and keeps a broken sensor from filling the disk. The raw payload is
kept up to ``max_payload_bytes`` with its original size, enough to see what the firmware sent.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import transaction
from telemetry.ingest.models import DeadLetter
from telemetry.ingest.records import Rejection, RejectReason
from telemetry.ingest.timeutil import from_epoch

DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_PAYLOAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    topic: str
    device_id: int | None
    rejection: Rejection
    payload: bytes
    received_at: float


class DeadLetterView(BaseModel):
    """What ``ioc deadletters list`` and the REST API show."""

    id: int
    received_at: datetime
    device_id: int | None
    topic: str
    reason: RejectReason
    detail: str
    payload_size: int
    payload_truncated: bool
    payload_text: str
    payload_base64: str


class DeadLetterStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self._sessions = sessions
        self.max_rows = max_rows
        self.max_payload_bytes = max_payload_bytes

    async def add(self, letters: Sequence[NewDeadLetter]) -> None:
        """Insert and prune in one transaction; returns once committed."""
        if not letters:
            return
        async with transaction(self._sessions) as session:
            session.add_all(
                DeadLetter(
                    received_at=from_epoch(letter.received_at),
                    device_id=letter.device_id,
                    topic=letter.topic[:256],
                    reason=letter.rejection.reason.value,
                    detail=letter.rejection.detail[:1024],
                    payload=letter.payload[: self.max_payload_bytes],
                    payload_size=len(letter.payload),
                )
                for letter in letters
            )
            await session.flush()
            newest = (await session.execute(select(func.max(DeadLetter.id)))).scalar_one()
            await session.execute(delete(DeadLetter).where(DeadLetter.id <= newest - self.max_rows))


async def list_dead_letters(
    sessions: async_sessionmaker[AsyncSession],
    *,
    device_id: int | None = None,
    reason: RejectReason | None = None,
    limit: int = 100,
    before_id: int | None = None,
    device_ids: set[int] | None = None,
) -> list[DeadLetterView]:
    """Newest first; ``before_id`` pages backwards (pass the last id of the previous page);
    ``device_ids`` limits to those devices (a scoped user's)."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(max(1, min(limit, 1000)))
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    if reason is not None:
        query = query.where(DeadLetter.reason == reason.value)
    if before_id is not None:
        query = query.where(DeadLetter.id < before_id)
    if device_ids is not None:
        query = query.where(DeadLetter.device_id.in_(sorted(device_ids)))
    async with sessions() as session:
        rows = (await session.execute(query)).scalars().all()
    return [
        DeadLetterView(
            id=row.id,
            received_at=row.received_at,
            device_id=row.device_id,
            topic=row.topic,
            reason=RejectReason(row.reason),
            detail=row.detail,
            payload_size=row.payload_size,
            payload_truncated=row.payload_size > len(row.payload),
            payload_text=row.payload.decode("utf-8", errors="replace"),
            payload_base64=base64.b64encode(row.payload).decode(),
        )
        for row in rows
    ]
