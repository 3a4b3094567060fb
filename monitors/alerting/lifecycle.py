"""One alert per root outage: firing -> acknowledged -> resolved, driven by the monitors' events.

What pages and what does not is decided here and only here:

* DOWN of a root outage fires one alert, routed to one team; a repeated DOWN (or a redelivered event)
  for a device with an open alert is folded into it (``duplicate_events``), never paged again;
* FLAPPING turns the open alert into a flapping alert with one message (or fires one), instead of a
  storm of down/up messages;
* UP resolves the open alert and tells every channel that was paged for it (recovery message);
* UNREACHABLE (the device is hidden behind a failed uplink), devices whose root cause is another device,
  and anything ``in_maintenance`` never page;
* a device already paged as DOWN whose outage the monitors re-root on a failed uplink (UNREACHABLE with
  another root cause) keeps its alert open, marked suppressed: it stops escalating and says behind
  which device it is, and its recovery still reaches the people who were paged. Resolving it instead
  would tell them the device is back while it is still cut off.

Each change and the outbox rows it causes are written in one transaction: either the alert changed and
its notifications are queued, or neither happened.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitors.alerting.context import AlertingContext
from monitors.alerting.errors import AlertNotFound, AlertStateError
from monitors.alerting.models import (
    Acknowledgement,
    Alert,
    AlertKind,
    AlertStatus,
    Channel,
    Language,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Route,
    Team,
)
from monitors.alerting.outbox import enqueue_annotation, enqueue_notification
from monitors.alerting.routing import RouteRule, choose_route
from monitors.events import DeviceState, StateChange

log = logging.getLogger(__name__)

PAGING_STATES = (DeviceState.DOWN, DeviceState.FLAPPING)
SUPPRESSED_BY = "suppressed_by_device_id"
"""Key in ``Alert.context``: the root device an open alert's outage was re-rooted on (no escalation)."""


class Outcome:
    FIRED = "fired"
    FLAPPING = "flapping"
    DEDUPLICATED = "deduplicated"
    RESOLVED = "resolved"
    SUPPRESSED_MAINTENANCE = "suppressed_maintenance"
    SECONDARY = "secondary"
    SUPPRESSED = "suppressed"
    IGNORED = "ignored"
    FAILED = "failed"


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def open_alert(session: AsyncSession, device_id: int, dedup_key: str | None = None) -> Alert | None:
    match = Alert.device_id == device_id
    if dedup_key is not None:
        match = or_(match, Alert.dedup_key == dedup_key)
    return await session.scalar(
        select(Alert).where(match, Alert.status != AlertStatus.RESOLVED).order_by(Alert.id).limit(1)
    )


async def team_channels(session: AsyncSession, team_id: int) -> list[Channel]:
    rows = await session.scalars(
        select(Channel).where(Channel.team_id == team_id, Channel.enabled.is_(True)).order_by(Channel.id)
    )
    return list(rows)


async def notify(
    ctx: AlertingContext,
    session: AsyncSession,
    alert: Alert,
    channels: list[Channel],
    message_kind: str,
    transition: str,
    *,
    fresh: bool = False,
    languages: dict[int, Language] | None = None,
    **extra: Any,
) -> int:
    """Queue one rendered message per channel, in the language of the channel's team.

    ``fresh``: the alert was created in this transaction by ``transition``, so no row of it can exist
    yet and the idempotency look-up is skipped (the unique index still guards it).
    """
    now = ctx.clock.now()
    queued = 0
    languages = {} if languages is None else languages
    for channel in channels:
        if channel.team_id not in languages:
            team = await session.get(Team, channel.team_id)
            languages[channel.team_id] = Language(team.language) if team else Language.VI
        language = languages[channel.team_id]
        values = ctx.messages.context({**alert.context, "alert_id": alert.id}, language, **dict(extra))
        rendered = ctx.messages.render(message_kind, language, values)
        item = await enqueue_notification(
            session,
            transition=transition,
            alert=alert,
            channel=channel,
            message_kind=message_kind,
            rendered=rendered,
            now=now,
            zone=ctx.zone,
            check_existing=not fresh,
        )
        queued += item is not None
    return queued


class AlertLifecycle:
    def __init__(self, ctx: AlertingContext) -> None:
        self.ctx = ctx
        self.outcomes: Counter[str] = Counter()
        self._rules: list[RouteRule] | None = None
        self._channels: dict[int, list[Channel]] = {}
        self._languages: dict[int, Language] = {}

    async def handle(self, event: StateChange) -> str:
        return (await self.handle_many([event]))[0]

    async def handle_many(self, events: Sequence[StateChange]) -> list[str]:
        """Handle events in order in one transaction (cheap during an outage storm).

        If any event fails, the batch is rolled back and its events are handled one by one, so one bad
        event costs only itself.
        """
        try:
            async with self.ctx.writing() as session:
                self._rules, self._channels, self._languages = None, {}, {}
                outcomes = [await self._handle(session, event) for event in events]
        except Exception:
            if len(events) == 1:
                raise
            outcomes = []
            for event in events:
                try:
                    outcomes.extend(await self.handle_many([event]))
                except Exception:
                    log.exception(
                        "alerting could not handle event %s (device %s)", event.event_id, event.device_id
                    )
                    outcomes.append(Outcome.FAILED)
            return outcomes
        self.outcomes.update(outcomes)
        return outcomes

    async def _handle(self, session: AsyncSession, event: StateChange) -> str:
        if event.current in PAGING_STATES:
            if event.in_maintenance:
                log.info("device %s %s during maintenance: not paged", event.device_id, event.current)
                return Outcome.SUPPRESSED_MAINTENANCE
            if event.root_cause_device_id not in (None, event.device_id):
                return Outcome.SECONDARY
            return await self._fire(session, event)
        if event.current == DeviceState.UP:
            alert = await open_alert(session, event.device_id)
            if alert is None:
                return Outcome.IGNORED
            await self._resolve(session, alert, at=event.at, transition=event.event_id)
            return Outcome.RESOLVED
        if event.current == DeviceState.UNREACHABLE:
            return await self._suppress(session, event)
        return Outcome.IGNORED

    async def _suppress(self, session: AsyncSession, event: StateChange) -> str:
        """An open alert whose device is now cut off behind another device's outage: marked, kept."""
        root = event.root_cause_device_id
        if root is None or root == event.device_id:
            return Outcome.IGNORED
        alert = await open_alert(session, event.device_id)
        if alert is None or alert.context.get(SUPPRESSED_BY) == root:
            return Outcome.IGNORED
        info = await self.ctx.devices.device(root)
        name = info.name if info else f"device {root}"
        alert.context = {**alert.context, SUPPRESSED_BY: root}
        alert.reason = f"{alert.reason}; suppressed: cut off behind {name}, whose outage it now belongs to"
        log.info("alert %s (device %s) suppressed behind device %s", alert.id, event.device_id, root)
        return Outcome.SUPPRESSED

    async def _team_channels(self, session: AsyncSession, team_id: int) -> list[Channel]:
        """A team's channels, read once per batch of events."""
        if team_id not in self._channels:
            self._channels[team_id] = await team_channels(session, team_id)
        return self._channels[team_id]

    async def _route_rules(self, session: AsyncSession) -> list[RouteRule]:
        """Routes are read once per batch of events."""
        if self._rules is None:
            self._rules = [
                RouteRule(r.id, r.team_id, r.site_id, r.device_kind, r.severity)
                for r in await session.scalars(select(Route))
            ]
        return self._rules

    async def _fire(self, session: AsyncSession, event: StateChange) -> str:
        ctx = self.ctx
        dedup_key = (
            f"outage:{event.outage_id}" if event.outage_id is not None else f"device:{event.device_id}"
        )
        flapping = event.current == DeviceState.FLAPPING
        related = list(
            await session.scalars(
                select(Alert).where(
                    or_(
                        and_(
                            or_(Alert.device_id == event.device_id, Alert.dedup_key == dedup_key),
                            Alert.status != AlertStatus.RESOLVED,
                        ),
                        Alert.opened_by == event.event_id,
                    )
                )
            )
        )
        existing = next(
            (a for a in sorted(related, key=lambda a: a.id) if a.status != AlertStatus.RESOLVED), None
        )
        if existing is not None:
            return await self._fold(session, existing, event, flapping)
        if related:
            return Outcome.DEDUPLICATED  # a late copy of an event whose alert is already closed
        info = await ctx.devices.device(event.device_id)
        ancestors = list(info.site_ids) if info else []
        path = list(info.site_names) if info else []
        kind = info.kind if info else "other"
        rule = choose_route(await self._route_rules(session), ancestors, kind, event.severity)
        name = info.name if info else f"device {event.device_id}"
        context = {
            "device_id": event.device_id,
            "device_name": name,
            "device_kind": kind,
            "site_path": path,
            "site_codes": list(info.site_codes) if info else [],
            "severity": str(event.severity),
            "started_at": event.at.isoformat(),
            "reason": event.reason,
            "affected_count": len(event.affected_device_ids),
            "root_cause_name": name,
            "dashboard_url": ctx.settings.dashboard_url,
        }
        alert = Alert(
            opened_by=event.event_id,
            dedup_key=dedup_key,
            device_id=event.device_id,
            outage_id=event.outage_id,
            kind=AlertKind.FLAPPING if flapping else AlertKind.DOWN,
            status=AlertStatus.FIRING,
            severity=event.severity,
            route_id=rule.route_id if rule else None,
            team_id=rule.team_id if rule else None,
            started_at=event.at,
            reason=event.reason,
            affected_count=len(event.affected_device_ids),
            escalation_level=0,
            duplicate_events=0,
            context=context,
        )
        session.add(alert)
        await session.flush()
        if rule is None:
            log.warning("alert %s for device %s matches no route: nobody is paged", alert.id, name)
        else:
            channels = await self._team_channels(session, rule.team_id)
            kind_of_message = "flapping" if flapping else "firing"
            await notify(
                ctx,
                session,
                alert,
                channels,
                kind_of_message,
                event.event_id,
                fresh=True,
                languages=self._languages,
            )
        if ctx.annotations_enabled:
            await self._open_annotation(session, alert, event.event_id)
        return Outcome.FLAPPING if flapping else Outcome.FIRED

    async def _fold(self, session: AsyncSession, alert: Alert, event: StateChange, flapping: bool) -> str:
        if SUPPRESSED_BY in alert.context:  # its uplink is back and it is still down: its own outage again
            alert.context = {k: v for k, v in alert.context.items() if k != SUPPRESSED_BY}
        if len(event.affected_device_ids) > alert.affected_count:
            alert.affected_count = len(event.affected_device_ids)
            alert.context = {**alert.context, "affected_count": alert.affected_count}  # for later messages
        if flapping and alert.kind != AlertKind.FLAPPING:
            alert.kind = AlertKind.FLAPPING
            channels = await self._paged_channels(session, alert)
            if not channels and alert.team_id is not None:
                channels = await team_channels(session, alert.team_id)
            await notify(self.ctx, session, alert, channels, "flapping", event.event_id)
            return Outcome.FLAPPING
        if (
            not flapping
            and alert.kind == AlertKind.FLAPPING
            and event.previous == DeviceState.FLAPPING
            and event.current == DeviceState.DOWN
        ):
            # Flapping calmed down into a steady outage: one message says so, at the event's severity.
            alert.kind, alert.severity = AlertKind.DOWN, event.severity
            alert.context = {**alert.context, "severity": str(event.severity), "reason": event.reason}
            await notify(
                self.ctx, session, alert, await self._paged_channels(session, alert), "firing", event.event_id
            )
            return Outcome.FIRED
        alert.duplicate_events += 1
        return Outcome.DEDUPLICATED

    async def _open_annotation(self, session: AsyncSession, alert: Alert, transition: str) -> None:
        values = self.ctx.messages.context({**alert.context, "alert_id": alert.id}, Language.VI)
        text = self.ctx.messages.render_builtin("firing", Language.VI, values).subject
        tags = ["ioc", f"ioc-alert-{alert.id}", str(alert.context["device_kind"]), alert.severity]
        tags += [str(code) for code in alert.context.get("site_codes", [])]
        payload = {
            "time": epoch_ms(alert.started_at),
            "text": text,
            "tags": tags,
            "dashboardUID": self.ctx.settings.grafana.dashboard_uid,
        }
        await enqueue_annotation(
            session,
            transition=transition,
            alert=alert,
            kind=OutboxKind.ANNOTATION_OPEN,
            payload=payload,
            now=self.ctx.clock.now(),
        )

    async def _cancel_held(self, session: AsyncSession, alert: Alert) -> None:
        """An outage that begins and ends within a channel's quiet hours is not told there at all."""
        held = await session.scalars(
            select(OutboxItem).where(
                OutboxItem.alert_id == alert.id,
                OutboxItem.status == OutboxStatus.PENDING,
                OutboxItem.held_until.is_not(None),
                OutboxItem.attempts == 0,
            )
        )
        for item in held:
            item.status = OutboxStatus.CANCELLED
            item.note = f"{item.note or ''}; cancelled: resolved during quiet hours".lstrip("; ")

    async def _paged_channels(self, session: AsyncSession, alert: Alert) -> list[Channel]:
        ids = select(OutboxItem.channel_id).where(
            OutboxItem.alert_id == alert.id,
            OutboxItem.kind == OutboxKind.NOTIFY,
            OutboxItem.status != OutboxStatus.CANCELLED,
        )
        return list(await session.scalars(select(Channel).where(Channel.id.in_(ids)).order_by(Channel.id)))

    async def _resolve(
        self, session: AsyncSession, alert: Alert, *, at: datetime, transition: str, by: str | None = None
    ) -> None:
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = at
        await self._cancel_held(session, alert)
        channels = await self._paged_channels(session, alert)
        await notify(self.ctx, session, alert, channels, "resolved", transition, ended_at=at, resolved_by=by)
        if self.ctx.annotations_enabled:
            await enqueue_annotation(
                session,
                transition=transition,
                alert=alert,
                kind=OutboxKind.ANNOTATION_CLOSE,
                payload={"timeEnd": epoch_ms(at)},
                now=self.ctx.clock.now(),
            )

    async def acknowledge(self, alert_id: int, user_id: int, comment: str = "") -> Alert:
        """Stop escalation: the alert is in someone's hands. Acknowledging twice records both."""
        async with self.ctx.writing() as session:
            alert = await _unresolved(session, alert_id)
            session.add(
                Acknowledgement(alert_id=alert_id, user_id=user_id, comment=comment, at=self.ctx.clock.now())
            )
            alert.status = AlertStatus.ACKNOWLEDGED
            return alert

    async def resolve(self, alert_id: int, user_id: int, *, user_name: str = "") -> Alert:
        """Close an alert by hand (the device was removed, the monitors missed the recovery)."""
        async with self.ctx.writing() as session:
            alert = await _unresolved(session, alert_id)
            alert.resolved_by = user_id
            await self._resolve(
                session,
                alert,
                at=self.ctx.clock.now(),
                transition=f"alert:{alert_id}:resolved",
                by=user_name or f"user {user_id}",
            )
            return alert


async def _unresolved(session: AsyncSession, alert_id: int) -> Alert:
    """The alert a person acts on: it must exist and still be open."""
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise AlertStateError(f"alert {alert_id} is already resolved")
    return alert
