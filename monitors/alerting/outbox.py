"""Writing outbox rows: one per (transition, channel), inside the transaction that changed the alert.

The idempotency key is ``<transition>:<lane>`` where the transition is the monitors' ``event_id`` (or an
alert-local name for escalations and manual actions) and the lane is ``channel:<id>`` or ``grafana``.
A row whose key already exists is not written again, and the unique index backs that up, so an event
delivered twice, or a crash and replay, never produces a second message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitors.alerting.messages import Rendered
from monitors.alerting.models import Alert, Channel, OutboxItem, OutboxKind, OutboxStatus
from monitors.alerting.routing import severity_at_least
from monitors.events import Severity

GRAFANA_LANE = "grafana"


def channel_lane(channel_id: int) -> str:
    return f"channel:{channel_id}"


def quiet_until(channel: Channel, severity: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """End of the channel's current quiet period if a ``severity`` message must wait for it, else None."""
    if channel.quiet_start is None or channel.quiet_end is None:
        return None
    if severity_at_least(severity, Severity.CRITICAL):
        return None
    local = now.astimezone(zone)
    start, end, clock = channel.quiet_start, channel.quiet_end, local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    end_today = datetime.combine(local.date(), end, tzinfo=zone)
    if end_today <= local:
        end_today += timedelta(days=1)
    return end_today.astimezone(now.tzinfo)


async def _exists(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(OutboxItem.id).where(OutboxItem.idempotency_key == key)) is not None


async def enqueue_notification(
    session: AsyncSession,
    *,
    transition: str,
    alert: Alert,
    channel: Channel,
    message_kind: str,
    rendered: Rendered,
    now: datetime,
    zone: ZoneInfo,
    check_existing: bool = True,
) -> OutboxItem | None:
    lane = channel_lane(channel.id)
    key = f"{transition}:{lane}"
    if check_existing and await _exists(session, key):
        return None
    due = now
    held: datetime | None = None
    notes = [rendered.note] if rendered.note else []
    if message_kind != "resolved":
        held = quiet_until(channel, alert.severity, now, zone)
        if held is not None:
            due = held
            notes.append(f"quiet hours: held until {held.astimezone(zone):%H:%M}")
    item = OutboxItem(
        idempotency_key=key,
        kind=OutboxKind.NOTIFY,
        lane=lane,
        alert_id=alert.id,
        channel_id=channel.id,
        message_kind=message_kind,
        subject=rendered.subject,
        body=rendered.body,
        payload={},
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=due,
        created_at=now,
        held_until=held,
        note="; ".join(notes) or None,
    )
    session.add(item)
    return item


async def enqueue_annotation(
    session: AsyncSession,
    *,
    transition: str,
    alert: Alert,
    kind: OutboxKind,
    payload: dict[str, Any],
    now: datetime,
) -> OutboxItem | None:
    key = f"{transition}:{GRAFANA_LANE}"
    if await _exists(session, key):
        return None
    item = OutboxItem(
        idempotency_key=key,
        kind=kind,
        lane=GRAFANA_LANE,
        alert_id=alert.id,
        channel_id=None,
        message_kind=kind,
        payload=payload,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    return item


def quiet_window(start: str, end: str) -> tuple[time, time]:
    """Parse ``"22:00"``, ``"06:00"`` as given on the command line or in configuration."""
    return time.fromisoformat(start), time.fromisoformat(end)
