"""``ioc probe onvif``, ``ioc discover onvif`` and ``ioc onboard onvif``."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from pydantic import SecretStr

from ioc.cli.bounds import finite
from ioc.cli.output import CliError, console, emit, parse_target, print_table, show_notes
from ioc.cli.probe_groups import discover_app, emit_onboarded, onboard_app, outcome, probe_app
from provisioning.onvif.models import OnvifEndpoint
from provisioning.onvif.schemas import OnvifDiscoverPublic, OnvifOnboardPublic, OnvifProbePublic
from provisioning.onvif.settings import OnvifSettings
from provisioning.responses import OnboardAttempt

KEEP_REPORTED_HELP = (
    "Use the addresses the device reports (XAddrs, stream and snapshot URIs) as they are, instead of "
    "pinning them to HOST[:PORT]."
)
_password_opt = typer.Option(
    ..., "--password", "-p", envvar="IOC_ONVIF_PASSWORD", prompt=True, hide_input=True, help="ONVIF password."
)


def _settings() -> OnvifSettings:
    """The ``onvif`` section of the settings; invalid values are reported naming the variable."""
    from pydantic import ValidationError

    from ioc.settings import Settings

    try:
        return Settings().onvif
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CliError(f"settings: {where}: {first['msg']}", exit_code=2) from None


def check_target(host: str, field: str = "HOST") -> None:
    """Refuse, before any packet, an address outside ``IOC_ONVIF__ALLOWED_NETWORKS`` (see targets.py)."""
    from ioc.cli.context import run
    from provisioning.targets import TargetPolicy

    run(TargetPolicy.of(_settings().allowed_networks).check_host(host, field))


def _offset(value: float | None) -> str:
    return "unknown" if value is None else f"{value:+.1f} s"


def _show_probe(data: OnvifProbePublic) -> None:
    console().print(
        f"[bold]{data.manufacturer} {data.model}[/] firmware {data.firmware} "
        f"serial {data.serial} hardware {data.hardware_id}",
        highlight=False,
    )
    console().print(
        f"clock offset {_offset(data.clock_offset_s)} · services: {', '.join(data.services)} · "
        f"profiles via {data.media_service}"
        + (f" · NVR, {len(data.channels)} channels" if data.is_nvr else ""),
        highlight=False,
    )
    print_table(
        "Profiles",
        ["token", "name", "encoding", "resolution", "fps", "stream_uri", "snapshot_uri"],
        [
            [p.token, p.name, p.encoding, p.resolution, p.fps, p.stream_uri, p.snapshot_uri]
            for p in data.profiles
        ],
    )
    show_notes(data.notes)


@probe_app.command("onvif")
def probe_onvif_command(
    target: str = typer.Argument(
        ..., metavar="HOST[:PORT]", help="Camera or NVR address (port 80 by default)."
    ),
    user: str = typer.Option(..., "--user", "-u", help="ONVIF user name."),
    password: str = _password_opt,
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=0.1,
        max=300.0,
        callback=finite,
        help="Seconds per ONVIF call (default: settings onvif.call_timeout_s).",
    ),
    adjust_time: bool | None = typer.Option(
        None, "--adjust-time/--no-adjust-time", help="Shift WS-Security timestamps to the device clock."
    ),
    keep_reported_addresses: bool = typer.Option(False, "--keep-reported-addresses", help=KEEP_REPORTED_HELP),
) -> None:
    """Read identity, clock offset, services and stream profiles of one ONVIF device."""
    from ioc.cli.context import run
    from provisioning.onvif.probe import probe_onvif

    host, port = parse_target(OnvifEndpoint.split, target)
    check_target(host)
    config = _settings()
    timeout = config.call_timeout_s if timeout is None else timeout
    adjust_time = config.adjust_time if adjust_time is None else adjust_time
    result = run(
        probe_onvif(
            host,
            port,
            user,
            SecretStr(password),
            call_timeout_s=timeout,
            adjust_time=adjust_time,
            keep_reported_addresses=keep_reported_addresses,
        )
    )
    emit(OnvifProbePublic.model_validate(result.to_dict()), _show_probe)


@discover_app.command("onvif")
def discover_onvif_command(
    interface: str | None = typer.Option(
        None, "--interface", "-i", help="Send the multicast Probe on this interface only."
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        metavar="IPV4[:PORT]",
        help="Instead: a directed Probe to this address (port 3702).",
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=0.1,
        max=60.0,
        callback=finite,
        help="Seconds to wait for answers (default: 3).",
    ),
    onboard: bool = typer.Option(False, "--onboard", help="Onboard every device found (needs --site)."),
    site: str | None = typer.Option(None, "--site", help="Site code for --onboard."),
    user: str | None = typer.Option(None, "--user", "-u", help="ONVIF user name for --onboard."),
    password: str | None = typer.Option(
        None, "--password", "-p", envvar="IOC_ONVIF_PASSWORD", help="ONVIF password for --onboard."
    ),
) -> None:
    """WS-Discovery on one interface (or one address): list cameras' address, scopes and XAddrs (and
    onboard them)."""
    import ipaddress

    from provisioning.endpoint import split_host_port
    from provisioning.onvif.discovery import DiscoveryError, Search, discover, interface_ipv4
    from provisioning.onvif.wsdiscovery import PORT

    if onboard:
        missing = [
            flag
            for flag, value in (("--site", site), ("--user", user), ("--password", password))
            if not value
        ]
        if missing:
            raise CliError(f"--onboard needs {', '.join(missing)}", exit_code=2)
    listen_s = _settings().discovery_listen_s if timeout is None else timeout
    try:
        host, port = (
            parse_target(lambda text: split_host_port(text, PORT), address) if address else (None, PORT)
        )
        search = Search(interface=interface, address=host, listen_s=listen_s, port=port)
        if host is not None:
            ipaddress.IPv4Address(host)
            check_target(host, "--address")
        if interface is not None:
            check_target(interface_ipv4(interface), "--interface")
        found = OnvifDiscoverPublic.of(search, asyncio.run(discover(search)))
    except DiscoveryError as error:
        raise CliError(str(error), exit_code=2) from None
    except ipaddress.AddressValueError:
        raise CliError(f"--address: {address!r} is not an IPv4 address", exit_code=2) from None
    saved: list[OnboardAttempt[OnvifOnboardPublic] | None] = [None] * len(found.found)
    if onboard and site and user and password:
        saved = [_onboard_discovered(d.xaddrs, d.address, site, user, password) for d in found.found]

    def human(data: OnvifDiscoverPublic) -> None:
        print_table(
            "ONVIF devices",
            ["address", "name", "hardware", "location", "xaddrs", "device"],
            [
                [d.address, d.name, d.hardware, d.location, " ".join(d.xaddrs), outcome(attempt)]
                for d, attempt in zip(data.found, saved, strict=True)
            ],
        )

    if onboard:
        emit_onboarded(found, [attempt for attempt in saved if attempt is not None], human)
    else:
        emit(found, human)


def _onboard_discovered(
    xaddrs: list[str], address: str, site: str, user: str, password: str
) -> OnboardAttempt[OnvifOnboardPublic]:
    """Onboard one discovered device; its failure is reported in its row, the others go on."""
    from urllib.parse import urlsplit

    from ioc.cli.context import in_transaction

    # A device may list several XAddrs (IPv6, other subnets): prefer the one it answered from.
    parsed = [urlsplit(x) for x in xaddrs]
    target = next((p for p in parsed if p.hostname == address), parsed[0] if parsed else None)
    host = (target.hostname if target else None) or address
    port = (target.port if target else None) or OnvifEndpoint.DEFAULT_PORT
    try:
        saved = _run_onboard(
            host, port, user, password, site, None, None, _settings().call_timeout_s, in_transaction
        )
    except CliError as error:
        return OnboardAttempt[OnvifOnboardPublic](address=address, error=str(error))
    return OnboardAttempt[OnvifOnboardPublic](address=address, onboarded=saved)


def _run_onboard(
    host: str,
    port: int,
    user: str,
    password: str,
    site: str,
    name: str | None,
    set_ntp: str | None,
    timeout: float,
    in_transaction: Any,
    keep_reported_addresses: bool = False,
    rtsp_basic_auth: bool = False,
) -> OnvifOnboardPublic:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ioc.cli.context import cli_principal
    from ioc.runtime import Platform
    from provisioning.onvif.onboard import onboard_onvif

    check_target(host)

    async def body(platform: Platform, session: AsyncSession) -> OnvifOnboardPublic:
        result = await onboard_onvif(
            session,
            cli_principal(),
            platform.box,
            host=host,
            port=port,
            username=user,
            password=SecretStr(password),
            site=site,
            name=name,
            set_ntp=set_ntp,
            call_timeout_s=timeout,
            keep_reported_addresses=keep_reported_addresses,
            rtsp_basic_auth=rtsp_basic_auth,
        )
        return OnvifOnboardPublic.of(result)

    return in_transaction(body)


def _show_onboard(data: OnvifOnboardPublic) -> None:
    console().print(f"onboarded device {data.device_id} [bold]{data.name}[/] ({data.kind})", highlight=False)
    _show_probe(data.probe)


@onboard_app.command("onvif")
def onboard_onvif_command(
    target: str = typer.Argument(
        ..., metavar="HOST[:PORT]", help="Camera or NVR address (port 80 by default)."
    ),
    site: str = typer.Option(..., "--site", help="Site code the device stands at."),
    user: str = typer.Option(..., "--user", "-u", help="ONVIF user name."),
    password: str = _password_opt,
    name: str | None = typer.Option(None, "--name", help="Device name (default: manufacturer model serial)."),
    set_ntp: str | None = typer.Option(
        None, "--set-ntp", metavar="SERVER", help="Point the camera at this NTP."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, max=300.0, callback=finite, help="Seconds per ONVIF call."
    ),
    keep_reported_addresses: bool = typer.Option(False, "--keep-reported-addresses", help=KEEP_REPORTED_HELP),
    allow_rtsp_basic: bool = typer.Option(
        False,
        "--allow-rtsp-basic",
        help="Let the RTSP check answer a Basic challenge (sends the password in clear; old firmware).",
    ),
) -> None:
    """Probe the device, then save it with its (encrypted) credential and media profiles."""
    from ioc.cli.context import in_transaction

    host, port = parse_target(OnvifEndpoint.split, target)
    timeout = _settings().call_timeout_s if timeout is None else timeout
    emit(
        _run_onboard(
            host,
            port,
            user,
            password,
            site,
            name,
            set_ntp,
            timeout,
            in_transaction,
            keep_reported_addresses,
            allow_rtsp_basic,
        ),
        _show_onboard,
    )
