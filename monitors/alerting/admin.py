"""Configuring teams, channels, routes and escalation: every input checked before anything is written.

A route to a team that does not exist, a site the registry does not know or an apprise URL apprise
cannot parse is refused here with :class:`AlertConfigError` naming the field, so a mistake shows up when
it is typed rather than at three in the morning when the alert has nowhere to go.

Every write takes the acting :class:`Principal` and leaves one audit row in the registry's shape
(``device_registry.services.audit``): who routes whose outages to whom matters as much as who moved a
device. A channel's URL is sealed before it is stored (monitors/alerting/channel_urls.py) and appears in
audit rows and answers only as its scheme.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.services import audit
from monitors.alerting.channel_urls import ChannelUrls, masked
from monitors.alerting.channels import validate_url
from monitors.alerting.directory import SiteDirectory
from monitors.alerting.errors import AlertConfigError
from monitors.alerting.models import Channel, EscalationStep, Language, Route, Team, TeamMember
from monitors.events import Severity


async def _team(session: AsyncSession, team_id: int, field: str = "team_id") -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise AlertConfigError(field, f"team {team_id} does not exist")
    return team


async def create_team(
    session: AsyncSession, principal: Principal, name: str, *, language: str = Language.VI
) -> Team:
    name = name.strip()
    if not name:
        raise AlertConfigError("name", "a team needs a name")
    if language not in set(Language):
        raise AlertConfigError("language", f"{language!r} is not one of {', '.join(Language)}")
    if await session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise AlertConfigError("name", f"team {name!r} already exists")
    team = Team(name=name, language=language)
    session.add(team)
    await session.flush()
    await audit.record(
        session, principal, "create", "alert_team", team.id, name, None, {"name": name, "language": language}
    )
    return team


async def add_member(session: AsyncSession, principal: Principal, team_id: int, user_id: int) -> TeamMember:
    team = await _team(session, team_id)
    try:
        known = await session.scalar(text("SELECT id FROM users WHERE id = :id"), {"id": user_id})
    except SQLAlchemyError as error:
        raise AlertConfigError("user_id", "the users table is not available") from error
    if known is None:
        raise AlertConfigError("user_id", f"user {user_id} does not exist")
    member = TeamMember(team_id=team_id, user_id=user_id)
    session.add(member)
    await session.flush()
    await audit.record(
        session,
        principal,
        "create",
        "alert_team_member",
        team_id,
        f"{team.name}: user {user_id}",
        None,
        {"team_id": team_id, "user_id": user_id},
    )
    return member


def _channel_snapshot(channel: Channel, url: str) -> dict[str, Any]:
    return {
        "team_id": channel.team_id,
        "name": channel.name,
        "url": masked(url),
        "quiet_start": channel.quiet_start.isoformat() if channel.quiet_start else None,
        "quiet_end": channel.quiet_end.isoformat() if channel.quiet_end else None,
        "enabled": channel.enabled,
    }


async def add_channel(
    session: AsyncSession,
    principal: Principal,
    urls: ChannelUrls,
    team_id: int,
    name: str,
    url: str,
    *,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
) -> Channel:
    await _team(session, team_id)
    validate_url(url)
    if (quiet_start is None) != (quiet_end is None):
        raise AlertConfigError(
            "quiet_end" if quiet_end is None else "quiet_start", "quiet hours need both ends"
        )
    if quiet_start is not None and quiet_start == quiet_end:
        raise AlertConfigError("quiet_end", "quiet hours must not start and end at the same time")
    url = url.strip()
    channel = Channel(
        team_id=team_id,
        name=name.strip() or "channel",
        url=urls.seal(url),
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        enabled=True,
    )
    session.add(channel)
    await session.flush()
    await audit.record(
        session,
        principal,
        "create",
        "alert_channel",
        channel.id,
        channel.name,
        None,
        _channel_snapshot(channel, url),
    )
    return channel


async def delete_channel(
    session: AsyncSession, principal: Principal, urls: ChannelUrls, channel_id: int
) -> None:
    """Its pending notifications fail for good ("channel was deleted"); escalation steps naming it go."""
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise AlertConfigError("channel_id", f"channel {channel_id} does not exist")
    before = _channel_snapshot(channel, urls.scheme(channel.url))
    await audit.record(session, principal, "delete", "alert_channel", channel.id, channel.name, before, None)
    await session.delete(channel)
    await session.flush()


async def add_route(
    session: AsyncSession,
    principal: Principal,
    sites: SiteDirectory,
    name: str,
    team_id: int,
    *,
    site_id: int | None = None,
    device_kind: str | None = None,
    severity: str | None = None,
) -> Route:
    name = name.strip()
    if not name:
        raise AlertConfigError("name", "a route needs a name")
    if await session.scalar(select(Route.id).where(Route.name == name)) is not None:
        raise AlertConfigError("name", f"route {name!r} already exists")
    await _team(session, team_id)
    if site_id is not None and not await sites.exists(site_id):
        raise AlertConfigError("site_id", f"site {site_id} does not exist")
    if severity is not None and severity not in set(Severity):
        raise AlertConfigError("severity", f"{severity!r} is not one of {', '.join(Severity)}")
    if device_kind is not None and not device_kind.strip():
        raise AlertConfigError("device_kind", "leave it out to match every kind")
    route = Route(name=name, team_id=team_id, site_id=site_id, device_kind=device_kind, severity=severity)
    session.add(route)
    await session.flush()
    snapshot = {"team_id": team_id, "site_id": site_id, "device_kind": device_kind, "severity": severity}
    await audit.record(session, principal, "create", "alert_route", route.id, name, None, snapshot)
    return route


async def add_escalation_step(
    session: AsyncSession,
    principal: Principal,
    route_id: int,
    after_minutes: int,
    *,
    team_id: int | None = None,
    channel_id: int | None = None,
) -> EscalationStep:
    route = await session.get(Route, route_id)
    if route is None:
        raise AlertConfigError("route_id", f"route {route_id} does not exist")
    if (team_id is None) == (channel_id is None):
        raise AlertConfigError("team_id", "give exactly one of team_id or channel_id")
    if team_id is not None:
        await _team(session, team_id)
    if channel_id is not None and await session.get(Channel, channel_id) is None:
        raise AlertConfigError("channel_id", f"channel {channel_id} does not exist")
    if after_minutes < 1:
        raise AlertConfigError("after_minutes", "must be at least 1")
    last = await session.scalar(
        select(func.max(EscalationStep.position)).where(EscalationStep.route_id == route_id)
    )
    previous = await session.scalar(
        select(EscalationStep.after_minutes).where(
            EscalationStep.route_id == route_id, EscalationStep.position == last
        )
    )
    if previous is not None and after_minutes <= previous:
        raise AlertConfigError("after_minutes", f"must be later than the previous step ({previous} min)")
    step = EscalationStep(
        route_id=route_id,
        position=(last or 0) + 1,
        after_minutes=after_minutes,
        team_id=team_id,
        channel_id=channel_id,
    )
    session.add(step)
    await session.flush()
    snapshot = {
        "route_id": route_id,
        "position": step.position,
        "after_minutes": after_minutes,
        "team_id": team_id,
        "channel_id": channel_id,
    }
    await audit.record(
        session,
        principal,
        "create",
        "alert_escalation_step",
        step.id,
        f"{route.name} #{step.position}",
        None,
        snapshot,
    )
    return step
