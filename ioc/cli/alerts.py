"""`ioc alerts …`: see open alerts, acknowledge or resolve them; configure teams, channels and routes."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from device_registry.schemas.bounds import MAX_ROW_ID
from ioc.cli.context import cli_principal, registry_user, with_platform
from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit, print_table
from ioc.runtime import Platform
from monitors.alerting.channel_urls import ChannelUrls, masked
from monitors.alerting.models import AlertStatus
from monitors.alerting.outbox import quiet_window
from monitors.alerting.queries import get_alert, list_alerts, list_channels, list_deliveries

# ``monitors.alerting.admin`` checks channel URLs with apprise (~0.07 s to import): the commands that
# configure alerting import it, listing and showing alerts never do.
if TYPE_CHECKING:
    from monitors.alerting.lifecycle import AlertLifecycle

T = TypeVar("T")

alerts_app = typer.Typer(
    help="Alerts: list, acknowledge, resolve; teams, channels, routes.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")


def _lifecycle(platform: Platform) -> AlertLifecycle:
    from monitors.alerting.context import AlertingContext
    from monitors.alerting.directory import RegistryDirectory
    from monitors.alerting.lifecycle import AlertLifecycle

    directory = RegistryDirectory(platform.sessions)
    return AlertLifecycle(
        AlertingContext(
            sessions=platform.sessions,
            sites=directory,
            devices=directory,
            box=platform.box,
            settings=platform.settings.alerting,
        )
    )


def _table(rows: list[dict[str, Any]]) -> None:
    print_table(
        f"{len(rows)} alerts",
        ["id", "status", "severity", "device", "site", "team", "since", "ack"],
        [
            (
                a["id"],
                a["status"] + (" (flapping)" if a["kind"] == "flapping" else ""),
                a["severity"],
                a["device_name"],
                a["site_path"],
                a["team"] or "-",
                a["started_at"],
                ", ".join(f"{k['user']}: {k['comment']}" for k in a["acknowledgements"]),
            )
            for a in rows
        ],
    )


@alerts_app.command("list")
def list_(
    status: list[AlertStatus] = typer.Option(
        [AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED], help="Repeat for several; default: open alerts."
    ),
    limit: int = typer.Option(100, min=1, max=10000),
) -> None:
    """Alerts, newest first."""

    async def body(platform: Platform) -> list[dict[str, Any]]:
        async with platform.sessions() as session:
            views = await list_alerts(session, statuses=status, limit=limit)
        return [v.model_dump(mode="json") for v in views]

    emit(with_platform(body), _table)


@alerts_app.command("show")
def show(alert_id: int) -> None:
    """One alert with every notification and every delivery attempt."""

    async def body(platform: Platform) -> dict[str, Any]:
        async with platform.sessions() as session:
            view = await get_alert(session, alert_id)
            if view is None:
                raise CliError(f"alert {alert_id} does not exist", exit_code=2)
            deliveries = await list_deliveries(session, alert_id)
        return {**view.model_dump(mode="json"), "deliveries": [d.model_dump(mode="json") for d in deliveries]}

    def human(a: dict[str, Any]) -> None:
        _table([a])
        print_table(
            "deliveries",
            ["row", "to", "message", "status", "attempt", "at", "ok", "error / note"],
            [
                (
                    d["outbox_id"],
                    d["channel"],
                    d["message_kind"],
                    d["status"],
                    d["attempt"],
                    d["at"],
                    d["ok"],
                    d["error"] or d["note"] or "",
                )
                for d in a["deliveries"]
            ],
        )

    emit(with_platform(body), human)


def _line(verb: str) -> Callable[[dict[str, Any]], None]:
    def show(a: dict[str, Any]) -> None:
        console().print(f"alert {a['id']} {verb}: {a['device_name']} ({a['site_path']})", highlight=False)

    return show


@alerts_app.command("ack")
def ack(
    alert_id: int,
    comment: str = typer.Option("", "--comment", "-m", help="What is being done about it."),
    user: str | None = typer.Option(None, help="Registry username acknowledging; default: your login."),
) -> None:
    """Acknowledge an alert: escalation stops, colleagues see who is on it."""

    async def body(platform: Platform) -> dict[str, Any]:
        async with platform.sessions() as session:
            who = await registry_user(session, user or getpass.getuser())
        await _lifecycle(platform).acknowledge(alert_id, who.id, comment)
        async with platform.sessions() as session:
            view = await get_alert(session, alert_id)
        assert view is not None
        return view.model_dump(mode="json")

    emit(with_platform(body), _line("acknowledged"))


@alerts_app.command("resolve")
def resolve(
    alert_id: int,
    user: str | None = typer.Option(None, help="Registry username resolving; default: your login."),
) -> None:
    """Close an alert by hand; the channels that were paged get the recovery message."""

    async def body(platform: Platform) -> dict[str, Any]:
        async with platform.sessions() as session:
            who = await registry_user(session, user or getpass.getuser())
        await _lifecycle(platform).resolve(alert_id, who.id, user_name=who.username)
        async with platform.sessions() as session:
            view = await get_alert(session, alert_id)
        assert view is not None
        return view.model_dump(mode="json")

    emit(with_platform(body), _line("resolved"))


def _created(kind: str) -> Callable[[dict[str, Any]], None]:
    def show(data: dict[str, Any]) -> None:
        console().print(f"{kind} {data['id']} created", highlight=False)

    return show


@alerts_app.command("team-add")
def team_add(name: str, language: str = typer.Option("vi", help="vi or en")) -> None:
    """A maintenance team that routes page."""

    async def body(platform: Platform) -> dict[str, Any]:
        from monitors.alerting import admin

        async with platform.sessions() as session, session.begin():
            team = await admin.create_team(session, cli_principal(), name, language=language)
            return {"id": team.id, "name": team.name, "language": team.language}

    emit(with_platform(body), _created("team"))


@alerts_app.command("member-add")
def member_add(team_id: int, username: str) -> None:
    async def body(platform: Platform) -> dict[str, Any]:
        from monitors.alerting import admin

        async with platform.sessions() as session, session.begin():
            user = await registry_user(session, username)
            await admin.add_member(session, cli_principal(), team_id, user.id)
            return {"id": team_id, "team_id": team_id, "user_id": user.id}

    emit(with_platform(body), lambda d: console().print(f"user {username} added to team {team_id}"))


@alerts_app.command("channel-add")
def channel_add(
    team_id: int,
    url: str = typer.Argument(..., help="apprise URL: mailto://…, tgram://…, json://…"),
    name: str = typer.Option("main"),
    quiet: str | None = typer.Option(None, help="Quiet hours for non-critical alerts, e.g. 22:00-06:00"),
) -> None:
    """A way to reach a team; the URL is checked by apprise before it is saved."""

    async def body(platform: Platform) -> dict[str, Any]:
        from monitors.alerting import admin

        start = end = None
        if quiet:
            try:
                start, end = quiet_window(*quiet.split("-", 1))
            except ValueError:
                raise CliError("quiet: expected HH:MM-HH:MM", exit_code=2) from None
        async with platform.sessions() as session, session.begin():
            channel = await admin.add_channel(
                session,
                cli_principal(),
                ChannelUrls(platform.box),
                team_id,
                name,
                url,
                quiet_start=start,
                quiet_end=end,
            )
            return {"id": channel.id, "team_id": team_id, "url": masked(url)}

    emit(with_platform(body), _created("channel"))


@alerts_app.command("route-add")
def route_add(
    name: str,
    team_id: int,
    site: str | None = typer.Option(None, help="Site code: the whole subtree; default: everywhere."),
    kind: str | None = typer.Option(None, help="Device kind, e.g. camera."),
    severity: str | None = typer.Option(None, help="Minimum severity: info, warning, critical."),
) -> None:
    """Route alerts to a team; the most specific matching route wins."""

    async def body(platform: Platform) -> dict[str, Any]:
        from device_registry.services.sites import resolve_site
        from monitors.alerting import admin
        from monitors.alerting.directory import RegistryDirectory

        async with platform.sessions() as session, session.begin():
            site_id = (await resolve_site(session, site, field="site")).id if site else None
            route = await admin.add_route(
                session,
                cli_principal(),
                RegistryDirectory(platform.sessions),
                name,
                team_id,
                site_id=site_id,
                device_kind=kind,
                severity=severity,
            )
            return {"id": route.id, "name": route.name, "team_id": team_id, "site_id": site_id}

    emit(with_platform(body), _created("route"))


@alerts_app.command("escalation-add")
def escalation_add(
    route_id: int,
    after_minutes: int,
    team: int | None = typer.Option(None, min=1, max=MAX_ROW_ID, help="Team id to page."),
    channel: int | None = typer.Option(None, min=1, max=MAX_ROW_ID, help="Or one channel id."),
) -> None:
    """After N minutes unacknowledged, page the next team or channel."""

    async def body(platform: Platform) -> dict[str, Any]:
        from monitors.alerting import admin

        async with platform.sessions() as session, session.begin():
            step = await admin.add_escalation_step(
                session, cli_principal(), route_id, after_minutes, team_id=team, channel_id=channel
            )
            return {"id": step.id, "position": step.position}

    emit(with_platform(body), _created("escalation step"))


@alerts_app.command("channel-list")
def channel_list() -> None:
    """Every channel with its team; a URL shows only its scheme (it holds a token or password)."""

    async def body(platform: Platform) -> list[dict[str, Any]]:
        async with platform.sessions() as session:
            return [
                v.model_dump(mode="json") for v in await list_channels(session, ChannelUrls(platform.box))
            ]

    emit(
        with_platform(body),
        lambda rows: print_table(
            f"{len(rows)} channels",
            ["id", "team", "name", "url", "quiet", "enabled"],
            [(c["id"], c["team"], c["name"], c["url"], c["quiet"] or "-", c["enabled"]) for c in rows],
        ),
    )


@alerts_app.command("channel-remove")
def channel_remove(channel_id: int = typer.Argument(..., min=1, max=MAX_ROW_ID)) -> None:
    """Delete a channel; notifications still waiting for it fail for good."""

    async def body(platform: Platform) -> dict[str, Any]:
        from monitors.alerting import admin

        async with platform.sessions() as session, session.begin():
            await admin.delete_channel(session, cli_principal(), ChannelUrls(platform.box), channel_id)
            return {"id": channel_id, "deleted": True}

    emit(with_platform(body), lambda d: console().print(f"channel {channel_id} deleted"))
