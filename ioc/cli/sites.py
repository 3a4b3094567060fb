"""`ioc sites …`: the site tree, Vietnam's units and the 2025 reform."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import SiteKind
from device_registry.queries.sites import SiteFilter, list_sites, site_views
from device_registry.schemas.bounds import MAX_OFFSET
from device_registry.schemas.sites import SiteCreate
from device_registry.services import sites as site_service
from ioc.cli.bounds import finite
from ioc.cli.context import cli_principal, in_transaction, progress_bar
from ioc.cli.main import app
from ioc.cli.output import console, emit, print_table
from ioc.runtime import Platform

sites_app = typer.Typer(help="Sites: provinces, districts, communes, buildings.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")


def _table(data: dict[str, Any]) -> None:
    rows = [
        (
            s["code"],
            s["name"],
            s["kind"],
            " › ".join(s["path_names"][:-1]),
            (s["valid_to"] and f"closed {s['valid_to']}") or "open",
            ",".join(s["successor_codes"]),
        )
        for s in data["items"]
    ]
    print_table(
        f"{len(rows)} of {data['total']} sites",
        ["code", "name", "kind", "under", "state", "successors"],
        rows,
    )


@sites_app.command("list")
def list_(
    under: str | None = typer.Option(None, help="Only sites below this site code."),
    search: str | None = typer.Option(None, help="Accent-insensitive name search ('vu thu' finds 'Vũ Thư')."),
    kind: SiteKind | None = typer.Option(None),
    include_closed: bool = typer.Option(False, help="Also closed (pre-reform) units."),
    limit: int = typer.Option(100, min=1, max=10000),
    offset: int = typer.Option(0, min=0, max=MAX_OFFSET),
) -> None:
    """List sites."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        page = await list_sites(session, SiteFilter(under, search, kind, include_closed), limit, offset)
        return page.model_dump(mode="json")

    emit(in_transaction(body), _table)


@sites_app.command("show")
def show(code: str) -> None:
    """One site, with its path and successors."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        site = await site_service.resolve_site(session, code)
        return (await site_views(session, [site]))[0].model_dump(mode="json")

    emit(in_transaction(body), lambda d: _table({"items": [d], "total": 1}))


@sites_app.command("add")
def add(
    code: str,
    name: str,
    kind: SiteKind = typer.Option(SiteKind.SITE),
    parent: str | None = typer.Option(None, help="Parent site code."),
    latitude: float | None = typer.Option(None, min=-90, max=90, callback=finite),
    longitude: float | None = typer.Option(None, min=-180, max=180, callback=finite),
) -> None:
    """Add a site (a building, a data centre…) under a parent."""
    data = SiteCreate(
        code=code, name=name, kind=kind, parent_code=parent, latitude=latitude, longitude=longitude
    )

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        site = await site_service.create_site(session, cli_principal(), data)
        return (await site_views(session, [site]))[0].model_dump(mode="json")

    emit(in_transaction(body), lambda d: console().print(f"site {d['code']} created (id {d['id']})"))


@sites_app.command("close")
def close(
    code: str,
    on: str = typer.Option(..., "--on", help="Closing date, YYYY-MM-DD."),
    successor: str | None = typer.Option(None, help="Successor site code."),
) -> None:
    """Close a site subtree (no device may stand in it)."""
    valid_to = date.fromisoformat(on)

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        site = await site_service.resolve_site(session, code)
        succ = await site_service.resolve_site(session, successor, field="successor") if successor else None
        frozen = await site_service.close_subtree(session, cli_principal(), site, valid_to, succ)
        return {"closed": code, "valid_to": valid_to.isoformat(), "users_frozen": len(frozen)}

    emit(in_transaction(body), lambda d: console().print(f"closed {d['closed']} on {d['valid_to']}"))


@sites_app.command("load-vn")
def load_vn(province: str = typer.Option(..., help="Pre-2025 province code, e.g. 34 for Thái Bình.")) -> None:
    """Load a pre-2025 province with its districts and communes (codes, names, coordinates)."""
    from device_registry.services import vn  # the boundary data: only these two commands read it

    with progress_bar(f"loading province {province}") as update:

        async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
            return asdict(await vn.load_legacy_province(session, cli_principal(), province, update))

        result = in_transaction(body)
    emit(
        result,
        lambda d: console().print(
            f"{d['province_name']}: {d['districts']} district-level units, {d['communes']} communes "
            f"({d['created']} new) from {d['source']}"
        ),
    )


@sites_app.command("apply-reform-2025")
def apply_reform_2025(province: str = typer.Option(..., help="Pre-2025 province code, e.g. 34.")) -> None:
    """Apply the July 2025 reform: close old units, open the new ones, move devices with history."""
    from device_registry.services import vn

    with progress_bar(f"reform of province {province}") as update:

        async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
            return asdict(await vn.apply_reform_2025(session, cli_principal(), province, progress=update))

        result = in_transaction(body)

    def human(d: dict[str, Any]) -> None:
        if d["already_applied"]:
            console().print(f"province {province}: the 2025 reform is already applied")
            return
        console().print(
            f"province {province} → {', '.join(d['new_provinces'])}: {d['sites_closed']} units closed, "
            f"{d['new_units_created']} new units, {d['successions']} successions, "
            f"{d['devices_moved']} devices moved, "
            f"{d['sites_reparented']} buildings re-parented, {d['users_frozen']} user scopes frozen"
        )

    emit(result, human)
