"""`ioc probe snmp`, `ioc discover snmp`, `ioc onboard snmp`: identify SNMP gear, sweep a subnet, save it.

Secrets may come from the environment instead of the command line (visible in ``ps``):
``IOC_SNMP_COMMUNITY``, ``IOC_SNMP_AUTH_KEY``, ``IOC_SNMP_PRIV_KEY``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from device_registry.models import DeviceKind
from ioc.cli.bounds import finite
from ioc.cli.context import cli_principal, in_transaction, progress_bar, run
from ioc.cli.output import MODE, CliError, console, emit, parse_target, print_table
from ioc.cli.probe_groups import discover_app, emit_onboarded, onboard_app, outcome, probe_app
from ioc.runtime import Platform
from ioc.settings import Settings
from provisioning.errors import DeviceError
from provisioning.responses import OnboardAttempt
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.discovery import MAX_SWEEP_PREFIX, DiscoveryHit, SweepResult, sweep, sweep_addresses
from provisioning.snmp.models import SnmpCredential, SnmpEndpoint
from provisioning.snmp.probe import ProbeResult, probe
from provisioning.snmp.schemas import SnmpDiscoverPublic, SnmpOnboardPublic, SnmpProbePublic, onboarded
from provisioning.targets import TargetPolicy

ASK = "-"
"""A secret option given as ``-`` is read from a hidden prompt (or stdin), so it never sits in argv,
where every local user can read it in ``ps`` and shell history keeps it."""
_community_opt = typer.Option(
    None,
    "--community",
    envvar="IOC_SNMP_COMMUNITY",
    help="v1/v2c community; '-' prompts for it. Prefer IOC_SNMP_COMMUNITY or '-' to argv.",
)
_version_opt = typer.Option("2c", "--snmp-version", help="1 or 2c (with --community).")
_user_opt = typer.Option(None, "--v3-user", help="SNMPv3 user name (instead of --community).")
_auth_proto_opt = typer.Option("none", "--auth-proto", help="none, MD5, SHA, SHA224, SHA256, SHA384, SHA512")
_auth_key_opt = typer.Option(None, "--auth-key", envvar="IOC_SNMP_AUTH_KEY", help="'-' prompts for it.")
_priv_proto_opt = typer.Option("none", "--priv-proto", help="none, DES, AES, AES192, AES256")
_priv_key_opt = typer.Option(None, "--priv-key", envvar="IOC_SNMP_PRIV_KEY", help="'-' prompts for it.")
_timeout_opt = typer.Option(
    None,
    "--timeout",
    min=0.05,
    max=30.0,
    callback=finite,
    help="Seconds per request [settings: snmp.timeout].",
)
_retries_opt = typer.Option(None, "--retries", min=0, max=10, help="[settings: snmp.retries]")


def _endpoint(
    host: str, credential: SnmpCredential, timeout: float | None, retries: int | None
) -> SnmpEndpoint:
    address, port = parse_target(SnmpEndpoint.split, host)
    defaults = Settings().snmp
    run(TargetPolicy.of(defaults.allowed_networks).check_host(address, "host"))
    return SnmpEndpoint(
        address,
        credential,
        port=port,
        timeout=defaults.timeout if timeout is None else timeout,
        retries=defaults.retries if retries is None else retries,
    )


_OPTION_FOR = {
    "auth_protocol": "--auth-proto",
    "priv_protocol": "--priv-proto",
    "username": "--v3-user",
    "community": "--community",
    "version": "--snmp-version",
}


def _secret(value: str | None, prompt: str) -> str | None:
    return typer.prompt(prompt, hide_input=True, err=True) if value == ASK else value


def build_credential(
    community: str | None,
    version: str,
    user: str | None,
    auth_proto: str,
    auth_key: str | None,
    priv_proto: str,
    priv_key: str | None,
) -> SnmpCredential:
    community = _secret(community, "SNMP community")
    auth_key = _secret(auth_key, "SNMPv3 auth key")
    priv_key = _secret(priv_key, "SNMPv3 privacy key")
    try:
        if user:
            if auth_proto != "none" and not auth_key:
                raise CliError("--auth-key: required with --auth-proto")
            if priv_proto != "none" and (auth_proto == "none" or not priv_key):
                raise CliError("--priv-key: privacy needs --auth-proto and --priv-key")
            return SnmpV3Credential(
                username=user,
                auth_protocol=auth_proto,
                auth_key=SecretStr(auth_key) if auth_key else None,
                priv_protocol=priv_proto,
                priv_key=SecretStr(priv_key) if priv_key else None,
            )
        if community is None:
            raise CliError("credentials: give --community or --v3-user")
        return SnmpCommunityCredential(community=SecretStr(community), version=version)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "credential"
        raise CliError(f"{_OPTION_FOR.get(field, field)}: {first['msg']}") from None


def _show_probe(data: SnmpProbePublic) -> None:
    console().print(
        f"[bold]{data.sys_name or data.host}[/] {data.vendor or '?'} {data.model or ''} "
        f"({data.family or 'unknown family'}), {data.os or 'OS unknown'}",
        highlight=False,
    )
    console().print(
        f"sysObjectID {data.sys_object_id} (enterprise {data.enterprise_number}), "
        f"uptime {data.uptime_s} s, rtt {data.rtt_ms} ms",
        highlight=False,
    )
    print_table(
        f"{len(data.interfaces)} interfaces",
        ["index", "name", "descr", "alias", "type", "speed", "admin", "oper", "mac"],
        [
            (i.index, i.name, i.descr, i.alias, i.type, i.speed_bps, i.admin_status, i.oper_status, i.mac)
            for i in data.interfaces
        ],
    )
    if data.notes:
        console().print("[yellow]notes:[/] " + "; ".join(data.notes), highlight=False)


async def _probe(endpoint: SnmpEndpoint) -> ProbeResult:
    async with SnmpClient() as client:
        return await probe(client, endpoint)


_LOGIN_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("community", str | None, _community_opt),
    ("version", str, _version_opt),
    ("v3_user", str | None, _user_opt),
    ("auth_proto", str, _auth_proto_opt),
    ("auth_key", str | None, _auth_key_opt),
    ("priv_proto", str, _priv_proto_opt),
    ("priv_key", str | None, _priv_key_opt),
    ("timeout", float | None, _timeout_opt),
    ("retries", int | None, _retries_opt),
)


def with_login(command: Callable[..., None]) -> Callable[..., None]:
    """The agent and its login, declared once for ``probe snmp`` and ``onboard snmp``.

    The command's own options stay; ``HOST[:PORT]`` comes first and the login options (credential,
    timeout, retries) after them, and the command receives the ``endpoint`` built from those instead."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    host = inspect.Parameter(
        "host", keyword, default=typer.Argument(..., metavar="HOST[:PORT]"), annotation=str
    )
    own = [
        p.replace(kind=keyword)
        for name, p in inspect.signature(command, eval_str=True).parameters.items()
        if name != "endpoint"
    ]
    login = [
        inspect.Parameter(name, keyword, default=opt, annotation=hint) for name, hint, opt in _LOGIN_OPTIONS
    ]

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        given = [values.pop(name) for name, _, _ in _LOGIN_OPTIONS]
        host, credential = values.pop("host"), build_credential(*given[:7])
        command(**values, endpoint=_endpoint(host, credential, *given[7:]))

    parameters = [host, *own, *login]
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


@probe_app.command("snmp")
@with_login
def probe_snmp(endpoint: SnmpEndpoint) -> None:
    """Identify one SNMP agent: vendor, model, OS, interfaces. Saves nothing."""
    emit(SnmpProbePublic.model_validate(run(_probe(endpoint))), _show_probe)


@onboard_app.command("snmp")
@with_login
def onboard_snmp(
    endpoint: SnmpEndpoint,
    site: str = typer.Option(..., "--site", help="Site code to place the device in."),
    name: str | None = typer.Option(None, help="Device name (default: sysName, else the address)."),
    kind: DeviceKind | None = typer.Option(None, help="Override the kind guessed from the probe."),
) -> None:
    """Probe an SNMP agent, then save it with its credential and interfaces (nothing saved if it fails)."""
    from provisioning.snmp.onboard import onboard

    async def body(platform: Platform, session: AsyncSession) -> SnmpOnboardPublic:
        async with SnmpClient() as client:
            device, result = await onboard(
                session, cli_principal(), platform.box, client, endpoint, site_code=site, name=name, kind=kind
            )
        return onboarded(device, result)

    def human(data: SnmpOnboardPublic) -> None:
        console().print(f"saved device {data.device_id} [bold]{data.name}[/]", highlight=False)
        _show_probe(data.probe)

    emit(in_transaction(body), human)


@discover_app.command("snmp")
def discover_snmp(
    cidr: str = typer.Argument(
        ..., help="Network to sweep, e.g. 10.1.2.0/24; only these addresses are asked."
    ),
    port: int = typer.Option(SnmpEndpoint.DEFAULT_PORT, "--port", min=1, max=65535),
    community: list[str] = typer.Option(
        [],
        "--community",
        envvar="IOC_SNMP_COMMUNITY",
        help="Repeat to try several, in order; '-' prompts. IOC_SNMP_COMMUNITY: space-separated.",
    ),
    v3_user: str | None = _user_opt,
    auth_proto: str = _auth_proto_opt,
    auth_key: str | None = _auth_key_opt,
    priv_proto: str = _priv_proto_opt,
    priv_key: str | None = _priv_key_opt,
    timeout: float = typer.Option(1.0, "--timeout", min=0.05, max=10.0, callback=finite),
    retries: int = typer.Option(0, "--retries", min=0, max=5),
    concurrency: int = typer.Option(64, "--concurrency", min=1, max=100),
    force: bool = typer.Option(False, "--force", help=f"Allow networks larger than /{MAX_SWEEP_PREFIX}."),
    site: str | None = typer.Option(None, "--site", help="Site code for --onboard."),
    do_onboard: bool = typer.Option(False, "--onboard", help="Probe and save every agent that answered."),
) -> None:
    """Sweep a network for SNMP agents; prints a table of those that answered."""
    try:
        planned = sweep_addresses(cidr, force=force)
        TargetPolicy.of(Settings().snmp.allowed_networks).check_network(planned.network, "cidr")
    except ValueError as error:
        raise CliError(str(error).replace("cidr:", "CIDR:", 1)) from None
    network = planned.network
    if do_onboard and not site:
        raise CliError("--site: required with --onboard")
    credentials: list[SnmpCredential] = [
        build_credential(c, "2c", None, "none", None, "none", None) for c in community
    ]
    if v3_user:
        credentials.append(build_credential(None, "2c", v3_user, auth_proto, auth_key, priv_proto, priv_key))
    if not credentials:
        raise CliError("credentials: give --community (repeatable) and/or --v3-user")

    async def main(update: Any) -> SweepResult:
        async with SnmpClient(max_in_flight=concurrency) as client:
            return await sweep(
                client,
                planned.addresses(),
                port,
                credentials,
                timeout=timeout,
                retries=retries,
                concurrency=concurrency,
                total=planned.hosts,
                progress=update,
            )

    if MODE.json:
        result = run(main(None))
    else:
        with progress_bar(f"sweeping {network}") as update:
            result = run(main(update))
    found = SnmpDiscoverPublic.of(planned, result)
    saved = (
        {a.address: a for a in _onboard_hits(result.hits, site or "", timeout, retries)} if do_onboard else {}
    )

    def human(data: SnmpDiscoverPublic) -> None:
        print_table(
            f"{len(data.found)} SNMP agents answered in {network}",
            ["address", "port", "sys_name", "vendor", "model", "sys_object_id", "credential", "device"],
            [
                (d.address, d.port, d.sys_name, d.vendor, d.model, d.sys_object_id, d.credential,
                 outcome(saved.get(d.address)))
                for d in data.found
            ],
        )  # fmt: skip

    if do_onboard:
        emit_onboarded(found, list(saved.values()), human)
    else:
        emit(found, human)


def _onboard_hits(
    hits: list[DiscoveryHit], site: str, timeout: float, retries: int
) -> list[OnboardAttempt[SnmpOnboardPublic]]:
    from provisioning.snmp.onboard import save

    async def probe_all() -> list[ProbeResult | str]:
        async with SnmpClient() as client:

            async def one(hit: DiscoveryHit) -> ProbeResult | str:
                endpoint = SnmpEndpoint(
                    hit.address, hit.credential, port=hit.port, timeout=timeout, retries=retries
                )
                try:
                    return await probe(client, endpoint)
                except DeviceError as error:
                    return str(error)

            return list(await asyncio.gather(*(one(h) for h in hits)))

    results = run(probe_all())

    async def body(platform: Platform, session: AsyncSession) -> list[OnboardAttempt[SnmpOnboardPublic]]:
        out = []
        for hit, result in zip(hits, results, strict=True):
            if isinstance(result, str):
                out.append(OnboardAttempt[SnmpOnboardPublic](address=hit.address, error=result))
                continue
            device = await save(
                session, cli_principal(), platform.box, result, hit.credential, site_code=site
            )
            out.append(
                OnboardAttempt[SnmpOnboardPublic](address=hit.address, onboarded=onboarded(device, result))
            )
        return out

    return in_transaction(body)
