"""Read-side of alerting for the CLI and the API: alerts as plain views, limited to what a user may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.models import Device, User
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.messages import PATH_SEPARATOR
from monitors.alerting.models import (
    Acknowledgement,
    Alert,
    AlertStatus,
    Channel,
    Delivery,
    OutboxItem,
    OutboxKind,
    Team,
    TeamMember,
)


class AcknowledgementView(BaseModel):
    user: str
    comment: str
    at: datetime


class AlertView(BaseModel):
    id: int
    status: str
    kind: str
    severity: str
    device_id: int
    device_name: str
    device_kind: str
    site_path: str
    team: str | None
    started_at: datetime
    resolved_at: datetime | None
    reason: str
    affected_count: int
    escalation_level: int
    duplicate_events: int
    acknowledgements: list[AcknowledgementView]
    notifications: dict[str, int]
    """Outbox rows of this alert by status (``sent``, ``pending``, ``failed``)."""


def _scoped(query: Select[Any], principal: Principal | None) -> Select[Any]:
    if principal is None or principal.unscoped:
        return query
    return query.where(Alert.device_id.in_(select(Device.id).where(principal.device_clause())))


async def _views(session: AsyncSession, alerts: Sequence[Alert]) -> list[AlertView]:
    ids = [a.id for a in alerts]
    teams = dict((await session.execute(select(Team.id, Team.name))).all())
    acks: dict[int, list[AcknowledgementView]] = {}
    notifications: dict[int, dict[str, int]] = {}
    if ids:
        rows = await session.execute(
            select(Acknowledgement, User.username)
            .join(User, User.id == Acknowledgement.user_id)
            .where(Acknowledgement.alert_id.in_(ids))
            .order_by(Acknowledgement.id)
        )
        for ack, username in rows.all():
            acks.setdefault(ack.alert_id, []).append(
                AcknowledgementView(user=username, comment=ack.comment, at=ack.at)
            )
        counts = await session.execute(
            select(OutboxItem.alert_id, OutboxItem.status, func.count())
            .where(OutboxItem.alert_id.in_(ids), OutboxItem.kind == OutboxKind.NOTIFY)
            .group_by(OutboxItem.alert_id, OutboxItem.status)
        )
        for alert_id, status, count in counts.all():
            notifications.setdefault(alert_id, {})[status] = count
    return [
        AlertView(
            id=a.id,
            status=a.status,
            kind=a.kind,
            severity=a.severity,
            device_id=a.device_id,
            device_name=str(a.context.get("device_name", a.device_id)),
            device_kind=str(a.context.get("device_kind", "")),
            site_path=PATH_SEPARATOR.join(a.context.get("site_path") or []),
            team=teams.get(a.team_id) if a.team_id is not None else None,
            started_at=a.started_at,
            resolved_at=a.resolved_at,
            reason=a.reason,
            affected_count=a.affected_count,
            escalation_level=a.escalation_level,
            duplicate_events=a.duplicate_events,
            acknowledgements=acks.get(a.id, []),
            notifications=notifications.get(a.id, {}),
        )
        for a in alerts
    ]


async def list_alerts(
    session: AsyncSession,
    principal: Principal | None = None,
    *,
    statuses: Sequence[AlertStatus] = (AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED),
    limit: int = 100,
    offset: int = 0,
) -> list[AlertView]:
    """Newest first; open alerts (firing and acknowledged) unless ``statuses`` says otherwise."""
    query = _scoped(select(Alert), principal).where(Alert.status.in_([str(s) for s in statuses]))
    alerts = list(await session.scalars(query.order_by(Alert.id.desc()).limit(limit).offset(offset)))
    return await _views(session, alerts)


async def get_alert(
    session: AsyncSession, alert_id: int, principal: Principal | None = None
) -> AlertView | None:
    """None when the alert does not exist or lies outside the principal's scope (indistinguishable)."""
    alert = await session.scalar(_scoped(select(Alert), principal).where(Alert.id == alert_id))
    return (await _views(session, [alert]))[0] if alert is not None else None


class DeliveryView(BaseModel):
    outbox_id: int
    kind: str
    message_kind: str
    channel: str | None
    subject: str
    status: str
    attempt: int | None
    at: datetime | None
    ok: bool | None
    error: str | None
    note: str | None


async def list_deliveries(session: AsyncSession, alert_id: int) -> list[DeliveryView]:
    """Every outbox row of an alert with every attempt at it (a row never tried yet appears once)."""
    rows = await session.execute(
        select(OutboxItem, Delivery, Channel.name)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxItem.id)
        .outerjoin(Channel, Channel.id == OutboxItem.channel_id)
        .where(OutboxItem.alert_id == alert_id)
        .order_by(OutboxItem.id, Delivery.id)
    )
    return [
        DeliveryView(
            outbox_id=item.id,
            kind=item.kind,
            message_kind=item.message_kind,
            channel=channel if item.kind == OutboxKind.NOTIFY else "grafana",
            subject=item.subject,
            status=item.status,
            attempt=delivery.attempt if delivery else None,
            at=delivery.at if delivery else None,
            ok=delivery.ok if delivery else None,
            error=delivery.error if delivery else None,
            note=item.note,
        )
        for item, delivery, channel in rows.all()
    ]


class ChannelView(BaseModel):
    id: int
    team_id: int
    team: str
    name: str
    url: str
    """Only the scheme (``tgram://***``): the rest holds a bot token, webhook secret or password."""
    quiet: str | None
    enabled: bool


async def list_channels(
    session: AsyncSession, urls: ChannelUrls, principal: Principal | None = None
) -> list[ChannelView]:
    """Every channel for unscoped users (and the CLI); a scoped user sees the channels of the teams
    they belong to, so other communes' teams stay out of sight. No answer ever holds a full URL."""
    query = select(Channel, Team.name).join(Team, Team.id == Channel.team_id).order_by(Channel.id)
    if principal is not None and not principal.unscoped:
        query = query.where(
            Channel.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == principal.user_id))
        )
    return [
        ChannelView(
            id=channel.id,
            team_id=channel.team_id,
            team=team,
            name=channel.name,
            url=urls.scheme(channel.url),
            quiet=(
                f"{channel.quiet_start:%H:%M}-{channel.quiet_end:%H:%M}"
                if channel.quiet_start is not None and channel.quiet_end is not None
                else None
            ),
            enabled=channel.enabled,
        )
        for channel, team in (await session.execute(query)).all()
    ]
