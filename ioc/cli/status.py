"""`ioc status`, `ioc outages list` and `ioc check DEVICE`: the operations view from a terminal."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import Device
from device_registry.queries.targets import device_targets
from ioc.cli.context import cli_principal, in_transaction
from ioc.cli.main import app
from ioc.cli.monitors import parse_time
from ioc.cli.output import CliError, console, emit, print_table
from ioc.runtime import Platform
from monitors.maintenance import DEFAULT_TIMEZONE
from monitors.status_queries import readable_site, root_outages, status_view
from monitors.status_schemas import OutagePublic, SiteStatus, StatusPublic
from provisioning.onvif.stored import stored_stream_uri

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from rich.text import Text

    from monitors.checks.base import CheckResult

outages_app = typer.Typer(
    help="Outages: root failures with the devices cut off behind them.", no_args_is_help=True
)
app.add_typer(outages_app, name="outages")

STYLE = {
    "down": "bold red",
    "unreachable": "dark_orange",
    "flapping": "magenta",
    "soft_down": "yellow",
    "maintenance": "blue",
    "unknown": "grey50",
    "up": "green",
}
ORDER = tuple(STYLE)


def _label(entry: SiteStatus) -> Text:
    from rich.text import Text  # rich only for a human: ``--json`` never imports it

    site = entry.site
    text = Text(f"{site.name} ({site.code})" if site else "*", style="bold")
    counts = entry.counts.model_dump()
    text.append(f"  {counts['total']} ")
    for state in ORDER:
        if counts[state]:
            text.append(f" {state} {counts[state]}", style=STYLE[state])
    return text


def _render_status(view: StatusPublic) -> None:
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(_label(view))
    communes = view.communes or []
    empty = 0
    for child in view.children:
        if not child.counts.total:
            empty += 1
            continue
        branch = tree.add(_label(child))
        parent = child.site.id if child.site else None
        for commune in communes:
            if commune.site and commune.site.parent_id == parent and commune.counts.total:
                branch.add(_label(commune))
    if empty:
        tree.add(Text(f"{empty} site(s) without devices", style="grey50"))
    console().print(tree)


@app.command("status")
def status(
    site: str | None = typer.Option(None, "--site", help="Site code (or id:N); default: the top."),
) -> None:
    """Devices per state in the site's subtree, for each child and the communes under them."""

    async def body(_: Platform, session: AsyncSession) -> StatusPublic:
        return await status_view(session, cli_principal(), site, communes=True)

    emit(in_transaction(body), _render_status)


@outages_app.command("list")
def list_outages(
    all_: bool = typer.Option(False, "--all", help="Ended outages too (default: open ones only)."),
    site: str | None = typer.Option(None, "--site", help="Only this site's subtree."),
    from_: str | None = typer.Option(
        None, "--from", help="Overlapping from, ISO 8601 (local time without offset)."
    ),
    to: str | None = typer.Option(None, "--to", help="Overlapping until, ISO 8601."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
) -> None:
    """Root outages, newest first, with the devices behind each (UNREACHABLE: nobody is paged for them)."""
    start = parse_time(from_, "from", DEFAULT_TIMEZONE) if from_ else None
    end = parse_time(to, "to", DEFAULT_TIMEZONE) if to else None
    if start and end and end <= start:
        raise CliError("to: must be after from")

    async def body(_: Platform, session: AsyncSession) -> list[OutagePublic]:
        principal = cli_principal()
        root = await readable_site(session, principal, site) if site else None
        return await root_outages(
            session,
            principal,
            open_only=not all_,
            root=root,
            start=start,
            end=end,
            limit=limit,
            now=datetime.now(UTC),
        )

    def human(outages: list[OutagePublic]) -> None:
        print_table(
            "Outages",
            ["id", "device", "site", "state", "start", "duration s", "behind it", "alert"],
            [
                (
                    o.id,
                    o.device_name,
                    o.site_code,
                    o.state if o.end is None else "ended",
                    o.start.isoformat(timespec="seconds"),
                    round(o.duration_s),
                    ", ".join(a.name for a in o.affected[:5]) + (" …" if len(o.affected) > 5 else ""),
                    f"{o.alert_id} {o.alert_status}" if o.alert_id else "",
                )
                for o in outages
            ],
        )

    emit(in_transaction(body), human)


@app.command("check")
def check(device: str = typer.Argument(..., help="Device name or id.")) -> None:
    """Run the device's checks now (the ones the monitors run for it) and print each result.

    Exits 3 when a check fails, so scripts can ask "is it up right now?".
    """
    # The protocol clients (pysnmp, zeep, aiohttp): only this command runs checks.
    from monitors.checks.defaults import DefaultChecks

    async def body(platform: Platform, session: AsyncSession) -> list[CheckResult]:
        query = select(Device).where(or_(Device.name == device, Device.id == _as_id(device)))
        found = (await session.scalars(query)).first()
        if found is None:
            raise CliError(f"device: no device named {device!r}")
        targets = await device_targets(session, platform.box, [found])
        for why in targets.uncovered.values():
            log.warning("%s", why)
        [target] = targets.targets
        monitors = platform.settings.monitors
        checks = DefaultChecks(
            timeout_s=monitors.check_timeout_s, clock_drift_warn_s=monitors.clock_drift_warn_s
        )
        try:
            chosen = checks.for_target(target, stream_uri=stored_stream_uri(found.id, found.attributes))
        except ValueError as error:
            raise CliError(f"device: {error}") from None
        try:
            return list(await asyncio.gather(*(c.run(target) for c in chosen)))
        finally:
            await checks.close()

    results = in_transaction(body)
    emit([_result(r) for r in results], _render_checks)
    if not all(r.ok for r in results):
        sys.exit(3)


def _as_id(value: str) -> int:
    return int(value) if value.isdigit() else -1


def _result(result: CheckResult) -> dict[str, Any]:
    return {
        "check": result.check,
        "ok": result.ok,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 2),
        "reason": result.reason,
        "error_kind": result.error_kind,
    }


def _render_checks(rows: list[dict[str, Any]]) -> None:
    from rich.text import Text

    for row in rows:
        mark = Text("OK  ", style="green") if row["ok"] else Text("FAIL", style="bold red")
        latency = f"{row['latency_ms']:.1f} ms" if row["latency_ms"] is not None else "–"
        console().print(Text.assemble(mark, f" {row['check']:<10} {latency:>10}  {row['reason']}"))
