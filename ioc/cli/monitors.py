"""`ioc sla report` and `ioc maintenance …`: uptime over a period, and the windows that excuse downtime."""

from __future__ import annotations

import csv
import enum
import io
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import Device
from device_registry.schemas.bounds import MAX_ROW_ID
from device_registry.services.sites import resolve_site
from ioc.cli.bounds import finite
from ioc.cli.context import cli_principal, in_transaction
from ioc.cli.main import app
from ioc.cli.output import MODE, CliError, console, emit, print_table
from ioc.runtime import Platform
from monitors.maintenance import DEFAULT_TIMEZONE, MaintenanceError, MaintenanceWindow
from monitors.maintenance_store import add_window, delete_window, list_windows
from monitors.sla import Availability

sla_app = typer.Typer(help="Uptime (SLA) over a period, excluding maintenance.", no_args_is_help=True)
maintenance_app = typer.Typer(
    help="Maintenance windows: checks run, alerts stay quiet, SLA excludes them.", no_args_is_help=True
)
app.add_typer(sla_app, name="sla")
app.add_typer(maintenance_app, name="maintenance")


class ReportFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def parse_time(value: str, field: str, tz: str) -> datetime:
    """ISO 8601; without an offset the time is local to ``tz`` (operators think in local days)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"{field}: {value!r} is not an ISO date or date-time (e.g. 2026-03-01T08:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return parsed.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"tz: unknown time zone {name!r}") from None


def _row(scope: str, item: Availability) -> dict[str, Any]:
    return {"scope": scope, **item.as_row()}


@sla_app.command("report")
def report(
    site: str = typer.Option(..., "--site", help="Site code (or id:N): the report covers its subtree."),
    from_: str = typer.Option(..., "--from", help="Start, ISO 8601; local to --tz without an offset."),
    to: str = typer.Option(..., "--to", help="End (exclusive), ISO 8601."),
    fmt: ReportFormat = typer.Option(ReportFormat.TABLE, "--format", help="table, csv or json."),
    tz: str = typer.Option(DEFAULT_TIMEZONE, "--tz", help="Time zone of --from/--to without an offset."),
    exclude_unreachable: bool = typer.Option(
        False, "--exclude-unreachable", help="Do not count time cut off behind a failed uplink as down."
    ),
) -> None:
    """Uptime % per device, for the site subtree and per device kind."""
    # Not at the top: the SLA query reaches the monitors' registry source and with it every protocol
    # client, which ``ioc status``, ``ioc outages`` and ``ioc maintenance`` (also importing this module)
    # do not need.
    from monitors.sla_query import MAX_PERIOD, site_sla

    start, end = parse_time(from_, "from", tz), parse_time(to, "to", tz)
    if end <= start:
        raise CliError("to: must be after from")
    if end - start > MAX_PERIOD:
        raise CliError(f"to: the period may span at most {MAX_PERIOD.days} days")

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        result = await site_sla(
            session, site, start, end, now=datetime.now(UTC), count_unreachable=not exclude_unreachable
        )
        return {
            "site": site,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "groups": [_row("group", g) for g in result.groups],
            "devices": [_row("device", d) for d in result.devices],
        }

    data = in_transaction(body)
    if MODE.json or fmt is ReportFormat.JSON:
        emit(data)
    elif fmt is ReportFormat.CSV:
        out = io.StringIO()
        rows = data["groups"] + data["devices"]
        writer = csv.DictWriter(
            out, fieldnames=list(rows[0]) if rows else ["scope", "name"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(out.getvalue())
    else:
        emit(data, _sla_table)


def _sla_table(data: dict[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f} %"

    print_table(
        f"SLA {data['site']} {data['from']} → {data['to']}",
        ["scope", "name", "devices", "uptime", "down s", "maintenance s"],
        [
            (r["scope"], r["name"], r["devices"], pct(r["uptime_pct"]), r["down_s"], r["maintenance_s"])
            for r in data["groups"] + data["devices"]
        ],
    )


def _windows_table(rows: list[dict[str, Any]]) -> None:
    print_table(
        f"{len(rows)} maintenance windows",
        ["id", "scope", "when", "reason", "owner"],
        [
            (
                r["id"],
                f"device {r['device_id']}" if r["device_id"] else f"site {r['site_id']}",
                f"cron '{r['cron']}' for {r['duration_s'] / 60:.0f} min ({r['timezone']})"
                if r["cron"]
                else f"{r['starts_at']} → {r['ends_at']}",
                r["reason"],
                r["owner"],
            )
            for r in rows
        ],
    )


@maintenance_app.command("add")
def add(
    reason: str = typer.Option(..., "--reason"),
    owner: str = typer.Option(..., "--owner", help="Who is responsible (team or person)."),
    device: int | None = typer.Option(None, "--device", min=1, max=MAX_ROW_ID, help="Device id."),
    site: str | None = typer.Option(None, "--site", help="Site code: the whole subtree."),
    start: str | None = typer.Option(None, "--start", help="One-off start (ISO 8601); or bounds a cron."),
    end: str | None = typer.Option(None, "--end", help="One-off end (ISO 8601); or bounds a cron."),
    cron: str | None = typer.Option(None, "--cron", help="Recurring: 5-field cron, local to --tz."),
    duration_min: float | None = typer.Option(
        None,
        "--duration",
        min=0,
        max=31 * 24 * 60,
        callback=finite,
        help="Recurring: minutes per occurrence.",
    ),
    tz: str = typer.Option(DEFAULT_TIMEZONE, "--tz"),
) -> None:
    """Add a one-off (--start/--end) or recurring (--cron/--duration) window on a device or site subtree."""
    if (device is None) == (site is None):
        raise CliError("device/site: give exactly one of --device or --site")
    zone(tz)
    starts_at = parse_time(start, "start", tz) if start else None
    ends_at = parse_time(end, "end", tz) if end else None

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        site_id = None
        if site is not None:
            site_id = (await resolve_site(session, site, field="site")).id
        elif await session.get(Device, device) is None:
            raise CliError(f"device: no device with id {device}")
        try:
            window = MaintenanceWindow(
                reason=reason,
                owner=owner,
                device_id=device,
                site_id=site_id,
                starts_at=starts_at,
                ends_at=ends_at,
                cron=cron,
                duration_s=None if duration_min is None else duration_min * 60,
                timezone=tz,
            )
        except MaintenanceError as error:
            raise CliError(str(error).replace("duration_s", "duration")) from None
        return (await add_window(session, cli_principal(), window)).values()

    emit(in_transaction(body), lambda d: _windows_table([d]))


@maintenance_app.command("list")
def list_() -> None:
    """Every maintenance window."""

    async def body(_: Platform, session: AsyncSession) -> list[dict[str, Any]]:
        return [w.values() for w in await list_windows(session)]

    emit(in_transaction(body), _windows_table)


@maintenance_app.command("remove")
def remove(window_id: int) -> None:
    """Delete a maintenance window."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        if not await delete_window(session, cli_principal(), window_id):
            raise CliError(f"window_id: no maintenance window {window_id}")
        return {"removed": window_id}

    emit(in_transaction(body), lambda d: console().print(f"removed maintenance window {d['removed']}"))
