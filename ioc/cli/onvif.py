"""``ioc probe onvif`` and ``ioc discover onvif``."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from pydantic import SecretStr

from ioc.cli.output import CliError, emit, print_table, stdout_console
from ioc.cli.probe_groups import discover_app, probe_app
from provisioning.errors import DeviceError

DEFAULT_ONVIF_PORT = 80


def parse_host_port(value: str, default_port: int = DEFAULT_ONVIF_PORT) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT``; a bad port is reported naming the argument."""
    host, port_text = value, ""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    if not host:
        raise CliError(f"HOST[:PORT]: no host in {value!r}", exit_code=2)
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise CliError(f"HOST[:PORT]: port must be 1-65535, got {port_text!r}", exit_code=2)
    return host, int(port_text)


def device_error(error: DeviceError) -> CliError:
    return CliError(str(error), details={"kind": error.kind, "retryable": error.retryable})


def _show_probe(data: dict[str, Any]) -> None:
    stdout_console.print(
        f"[bold]{data['manufacturer']} {data['model']}[/] firmware {data['firmware']} "
        f"serial {data['serial']} hardware {data['hardware_id']}",
        highlight=False,
    )
    stdout_console.print(
        f"clock offset {data['clock_offset_s']:+.1f} s · services: {', '.join(data['services'])} · "
        f"profiles via {data['media_service']}"
        + (f" · NVR, {len(data['channels'])} channels" if data["is_nvr"] else ""),
        highlight=False,
    )
    print_table(
        "Profiles",
        ["token", "name", "encoding", "resolution", "fps", "stream_uri", "snapshot_uri"],
        [
            [
                p["token"],
                p["name"],
                p["encoding"],
                p["resolution"],
                p["fps"],
                p["stream_uri"],
                p["snapshot_uri"],
            ]
            for p in data["profiles"]
        ],
    )
    for note in data["notes"]:
        stdout_console.print(f"note: {note}", highlight=False, markup=False)


@probe_app.command("onvif")
def probe_onvif_command(
    target: str = typer.Argument(
        ..., metavar="HOST[:PORT]", help="Camera or NVR address (port 80 by default)."
    ),
    user: str = typer.Option(..., "--user", "-u", help="ONVIF user name."),
    password: str = typer.Option(
        ...,
        "--password",
        "-p",
        envvar="IOC_ONVIF_PASSWORD",
        prompt=True,
        hide_input=True,
        help="ONVIF password.",
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds per ONVIF call."),
    adjust_time: bool = typer.Option(
        True, "--adjust-time/--no-adjust-time", help="Shift WS-Security timestamps to the device clock."
    ),
) -> None:
    """Read identity, clock offset, services and stream profiles of one ONVIF device."""
    from provisioning.onvif.probe import probe_onvif

    host, port = parse_host_port(target)
    try:
        result = asyncio.run(
            probe_onvif(
                host, port, user, SecretStr(password), call_timeout_s=timeout, adjust_time=adjust_time
            )
        )
    except DeviceError as error:
        raise device_error(error) from None
    emit(result.to_dict(), _show_probe)


def _show_discovery(rows: list[dict[str, Any]]) -> None:
    print_table(
        "ONVIF devices",
        ["address", "name", "hardware", "location", "xaddrs"],
        [[r["address"], r["name"], r["hardware"], r["location"], " ".join(r["xaddrs"])] for r in rows],
    )


@discover_app.command("onvif")
def discover_onvif_command(
    interface: str = typer.Option(..., "--interface", "-i", help="Send probes on this interface only."),
    timeout: float = typer.Option(3.0, "--timeout", min=0.1, max=60.0, help="Seconds to wait for answers."),
) -> None:
    """WS-Discovery on one interface: list cameras' address, scopes and XAddrs."""
    from provisioning.onvif.discovery import DiscoveryError, discover

    try:
        found = asyncio.run(discover(interface, listen_s=timeout))
    except DiscoveryError as error:
        raise CliError(str(error), exit_code=2) from None
    emit([device.to_dict() for device in found], _show_discovery)
