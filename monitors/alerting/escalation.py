"""Escalate firing alerts nobody acknowledged: after N minutes, page the next team or channel.

Only ``firing`` alerts escalate; acknowledging moves an alert to ``acknowledged`` and so stops it, and
an alert suppressed behind another device's outage (``SUPPRESSED_BY``) waits while it is.
``escalation_level`` on the alert records how many steps were taken, and each step's messages use the
idempotency key ``alert:<id>:escalation:<position>``, so a tick repeated after a crash pages nobody twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from monitors.alerting.context import AlertingContext
from monitors.alerting.lifecycle import SUPPRESSED_BY, notify, team_channels
from monitors.alerting.models import Alert, AlertStatus, Channel, EscalationStep


class Escalator:
    def __init__(self, ctx: AlertingContext) -> None:
        self.ctx = ctx

    async def tick(self) -> int:
        """Take every escalation step that is due now; returns the number of steps taken."""
        now = self.ctx.clock.now()
        taken = 0
        async with self.ctx.writing() as session:
            alerts = await session.scalars(
                select(Alert).where(Alert.status == AlertStatus.FIRING, Alert.route_id.is_not(None))
            )
            by_route: dict[int, list[EscalationStep]] = {}
            for step in await session.scalars(select(EscalationStep).order_by(EscalationStep.position)):
                by_route.setdefault(step.route_id, []).append(step)
            for alert in list(alerts):
                if SUPPRESSED_BY in alert.context:
                    continue
                steps = by_route.get(alert.route_id or 0, [])
                for step in steps[alert.escalation_level :]:
                    if now < alert.started_at + timedelta(minutes=step.after_minutes):
                        break
                    if step.channel_id is not None:
                        channel = await session.get(Channel, step.channel_id)
                        channels = [channel] if channel is not None and channel.enabled else []
                    else:
                        assert step.team_id is not None
                        channels = await team_channels(session, step.team_id)
                    alert.escalation_level = step.position
                    await notify(
                        self.ctx,
                        session,
                        alert,
                        channels,
                        "escalation",
                        f"alert:{alert.id}:escalation:{step.position}",
                        escalation_level=step.position,
                        minutes_open=step.after_minutes,
                    )
                    taken += 1
        return taken
