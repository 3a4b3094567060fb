"""`ioc devices …`: register, list, move, import and export devices."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.errors import NotFound
from device_registry.models import Device, DeviceKind, Lifecycle, Protocol
from device_registry.queries.devices import DeviceFilter, device_views, filtered, list_devices, site_history
from device_registry.schemas.bounds import MAX_OFFSET
from device_registry.schemas.devices import DeviceCreate, DeviceUpdate
from device_registry.services import devices as service
from device_registry.services.importer import Format, detect_format, export_devices, import_devices
from ioc.cli.context import cli_principal, in_transaction, progress_bar
from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit, print_table
from ioc.runtime import Platform
from monitors.status_queries import SqlDeviceStates

devices_app = typer.Typer(help="Devices: cameras, switches, routers, sensors…", no_args_is_help=True)
app.add_typer(devices_app, name="devices")


async def find_device(session: AsyncSession, ref: str) -> Device:
    """By id or by exact name."""
    from sqlalchemy import select

    device = await session.get(Device, int(ref)) if ref.isdigit() else None
    if device is None:
        device = await session.scalar(select(Device).where(Device.name == ref))
    if device is None:
        raise NotFound(f"no device {ref!r}", field="device")
    return device


def _device_line(d: dict[str, Any]) -> None:
    console().print(
        f"device {d['id']} [bold]{d['name']}[/] ({d['kind']}) at {d['site']['code']} {d['site']['name']}"
        + (f", {d['address']}" if d["address"] else ""),
        highlight=False,
    )


def _table(data: dict[str, Any]) -> None:
    rows = [
        (
            d["id"],
            d["name"],
            d["kind"],
            d["address"],
            f"{d['site']['code']} {d['site']['name']}",
            d["lifecycle"],
            d["vendor"],
            ",".join(d["tags"]),
        )
        for d in data["items"]
    ]
    print_table(
        f"{len(rows)} of {data['total']} devices",
        ["id", "name", "kind", "address", "site", "lifecycle", "vendor", "tags"],
        rows,
    )


@devices_app.command("add")
def add(
    name: str,
    kind: DeviceKind = typer.Option(
        ..., help="camera, nvr, switch, router, firewall, ups, sensor, gateway, other"
    ),
    site: str = typer.Option(..., help="Site code."),
    address: str | None = typer.Option(None, help="Management IP address or host name."),
    port: int | None = typer.Option(None, min=1, max=65535),
    protocol: list[Protocol] = typer.Option([], help="Repeat for several."),
    uplink: list[str] = typer.Option([], help="Uplink device name or id; repeat for redundant uplinks."),
    tag: list[str] = typer.Option([]),
    lifecycle: Lifecycle = typer.Option(Lifecycle.ACTIVE),
    credential: str | None = typer.Option(None, help="Name of a stored credential."),
) -> None:
    """Register a device; prints it, including its id."""

    async def body(platform: Platform, session: AsyncSession) -> dict[str, Any]:
        uplink_ids = [(await find_device(session, ref)).id for ref in uplink]
        data = DeviceCreate(
            name=name,
            kind=kind,
            site_code=site,
            address=address,
            port=port,
            protocols=protocol,
            uplink_ids=uplink_ids,
            tags=tag,
            lifecycle=lifecycle,
            credential_ref=credential,
        )
        (device,) = await service.create_devices(session, cli_principal(), platform.box, [data])
        return (await device_views(session, [device]))[0].model_dump(mode="json")

    emit(in_transaction(body), _device_line)


@devices_app.command("list")
def list_(
    site: str | None = typer.Option(None, help="Site code: the whole subtree."),
    kind: DeviceKind | None = typer.Option(None),
    lifecycle: Lifecycle | None = typer.Option(None),
    tag: str | None = typer.Option(None),
    vendor: str | None = typer.Option(None),
    search: str | None = typer.Option(None, help="Accent-insensitive name, or exact address/serial."),
    limit: int = typer.Option(100, min=1, max=10000),
    offset: int = typer.Option(0, min=0, max=MAX_OFFSET),
) -> None:
    """List devices with filters."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        flt = DeviceFilter(site=site, kind=kind, lifecycle=lifecycle, tag=tag, vendor=vendor, search=search)
        page = await list_devices(session, cli_principal(), flt, limit, offset, SqlDeviceStates())
        return page.model_dump(mode="json")

    emit(in_transaction(body), _table)


@devices_app.command("show")
def show(device: str = typer.Argument(..., help="Id or name.")) -> None:
    """One device with its site history."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        row = await find_device(session, device)
        view = (await device_views(session, [row], SqlDeviceStates()))[0].model_dump(mode="json")
        view["history"] = [h.model_dump(mode="json") for h in await site_history(session, row.id)]
        return view

    def human(d: dict[str, Any]) -> None:
        _device_line(d)
        print_table(
            "site history",
            ["from", "to", "site", "reason"],
            [
                (
                    h["valid_from"],
                    h["valid_to"] or "",
                    f"{h['site']['code']} {h['site']['name']}",
                    h["reason"],
                )
                for h in d["history"]
            ],
        )

    emit(in_transaction(body), human)


@devices_app.command("move")
def move(device: str, site: str = typer.Option(..., help="New site code.")) -> None:
    """Move a device to another site (its history keeps the old one)."""

    async def body(platform: Platform, session: AsyncSession) -> dict[str, Any]:
        row = await find_device(session, device)
        updated = await service.update_device(
            session, cli_principal(), platform.box, row.id, DeviceUpdate(site_code=site)
        )
        return (await device_views(session, [updated]))[0].model_dump(mode="json")

    emit(in_transaction(body), _device_line)


@devices_app.command("delete")
def delete(device: str) -> None:
    """Delete a device (the audit log keeps its last state)."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        row = await find_device(session, device)
        await service.delete_device(session, cli_principal(), row.id)
        return {"deleted": row.id, "name": row.name}

    emit(in_transaction(body), lambda d: console().print(f"deleted device {d['deleted']} {d['name']}"))


@devices_app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report, write nothing."),
    format: str | None = typer.Option(None, help="csv or yaml (default: from the file name)."),
) -> None:
    """Import devices from CSV or YAML: all or nothing; errors name line and field."""
    fmt: Format = "yaml" if (format or detect_format(file.name)) == "yaml" else "csv"
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CliError(f"{file}: not UTF-8 (byte {error.start})") from None

    with progress_bar(f"importing {file.name}") as update:

        async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
            result = await import_devices(
                session, cli_principal(), text, fmt, dry_run=dry_run, progress=update
            )
            if dry_run:
                await session.rollback()
                await session.begin()
            return result.as_dict()

        result = in_transaction(body)
    emit(
        result,
        lambda d: console().print(
            f"{'dry run: ' if d['dry_run'] else ''}{d['rows']} rows: {d['created']} created, "
            f"{d['updated']} updated, {d['unchanged']} unchanged"
        ),
    )


@devices_app.command("export")
def export(
    format: str = typer.Option("csv", help="csv or yaml"),
    site: str | None = typer.Option(None, help="Only this site subtree."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Export devices in the import format (round-trips)."""
    if format not in ("csv", "yaml"):
        raise CliError("--format: csv or yaml")
    fmt: Format = "yaml" if format == "yaml" else "csv"

    async def body(_: Platform, session: AsyncSession) -> str:
        query = await filtered(session, cli_principal(), DeviceFilter(site=site))
        return await export_devices(session, cli_principal(), list((await session.scalars(query)).all()), fmt)

    text = in_transaction(body)
    if output:
        output.write_text(text, encoding="utf-8")
        emit(
            {"written": str(output), "bytes": len(text.encode())},
            lambda d: console().print(f"wrote {d['written']}"),
        )
    else:
        sys.stdout.write(text)
