"""MQTT sensors on the command line: onboarding, broker files, revocation, dead letters, file import."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import DeviceKind
from device_registry.schemas.bounds import MAX_ROW_ID
from ioc.cli.bounds import finite
from ioc.cli.context import cli_principal, in_transaction, run, with_platform
from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit, parse_target, print_table, show_notes
from ioc.cli.probe_groups import discover_app, onboard_app, probe_app
from ioc.cli.telemetry import telemetry_app
from ioc.mqtt_broker import BrokerNotConfigured, broker_files, push_credentials
from ioc.runtime import Platform, writer_config
from ioc.settings import Settings
from provisioning.mqtt.models import MqttEndpoint
from provisioning.mqtt.onboard import OnboardedSensor, onboard_sensor, revoke_sensor, rotate_sensor_password
from provisioning.mqtt.schemas import MqttOnboardPublic, MqttProbePublic
from telemetry.ingest.deadletters import list_dead_letters
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.importer import import_payloads, split_payloads
from telemetry.ingest.parse import PayloadFormat
from telemetry.ingest.records import RejectReason
from telemetry.spool import SPOOL_FILE, read_status
from telemetry.writer import TelemetryWriter

mqtt_app = typer.Typer(
    help="The MQTT broker: generated config, credentials, revocation.", no_args_is_help=True
)
app.add_typer(mqtt_app, name="mqtt")
deadletters_app = typer.Typer(help="Payloads the ingest refused, with the reason.", no_args_is_help=True)
app.add_typer(deadletters_app, name="deadletters")


async def _push(platform: Platform) -> str:
    try:
        return await push_credentials(platform.settings, platform.sessions)
    except BrokerNotConfigured as error:
        raise CliError(str(error)) from None


@probe_app.command("mqtt")
def probe_mqtt_command(
    target: str = typer.Argument(..., metavar="HOST[:PORT]", help="Broker (port 1883, 8883 with --tls)."),
    tls: bool = typer.Option(False, "--tls", help="Connect with TLS (mqtts)."),
    user: str | None = typer.Option(None, "--user", "-u", help="MQTT user name."),
    password: str | None = typer.Option(
        None, "--password", "-p", envvar="IOC_MQTT_PASSWORD", help="Prefer IOC_MQTT_PASSWORD to argv."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, max=60.0, help="Seconds [settings: mqtt.probe_timeout_s]."
    ),
) -> None:
    """Connect to a broker with a login and read its version. Saves nothing."""
    from pydantic import SecretStr

    from provisioning.mqtt.probe import probe
    from provisioning.targets import TargetPolicy

    host, port = parse_target(lambda text: MqttEndpoint.split(text, tls=tls), target)
    settings = Settings().mqtt
    run(TargetPolicy.of(settings.allowed_networks).check_host(host, "HOST"))
    endpoint = MqttEndpoint(
        host,
        port,
        tls=tls,
        username=user,
        password=SecretStr(password) if password is not None else None,
        timeout=settings.probe_timeout_s if timeout is None else timeout,
    )
    result = MqttProbePublic.model_validate(run(probe(endpoint)))

    def human(data: MqttProbePublic) -> None:
        console().print(
            f"{'mqtts' if data.tls else 'mqtt'}://{data.host}:{data.port} answered; "
            f"broker {data.broker_version or 'version unknown'}",
            highlight=False,
            markup=False,
        )
        show_notes(data.notes)

    emit(result, human)


@discover_app.command("mqtt")
def discover_mqtt_command(
    target: str | None = typer.Argument(
        None, metavar="[HOST[:PORT]]", help="Broker to listen to (default: the platform's, IOC_MQTT_URL)."
    ),
    tls: bool = typer.Option(False, "--tls", help="Connect with TLS (mqtts)."),
    user: str | None = typer.Option(None, "--user", "-u", help="A login that may read ioc/v1/d/+/…"),
    password: str | None = typer.Option(
        None, "--password", "-p", envvar="IOC_MQTT_PASSWORD", help="Prefer IOC_MQTT_PASSWORD to argv."
    ),
    listen: float = typer.Option(
        10.0, "--listen", min=0.1, max=30.0, callback=finite, help="Seconds to listen (at most 30)."
    ),
) -> None:
    """Listen to the broker and list publishers whose device key is no registered device."""
    from pydantic import SecretStr

    from provisioning.mqtt.discovery import discover
    from provisioning.mqtt.schemas import MqttDiscoverPublic
    from provisioning.targets import TargetPolicy

    settings = Settings()
    if target is None:
        url = settings.mqtt_url
        if url is None:
            raise CliError("HOST: no platform broker configured (IOC_MQTT_URL); name one", exit_code=2)
        endpoint = url.endpoint()
    else:
        host, port = parse_target(lambda text: MqttEndpoint.split(text, tls=tls), target)
        run(TargetPolicy.of(settings.mqtt.allowed_networks).check_host(host, "HOST"))
        secret = SecretStr(password) if password is not None else None
        endpoint = MqttEndpoint(host, port, tls=tls, username=user, password=secret)

    async def body(platform: Platform, session: AsyncSession) -> MqttDiscoverPublic:
        found = await discover(session, cli_principal(), endpoint, listen_s=listen)
        return MqttDiscoverPublic.of(endpoint.label, found)

    def human(data: MqttDiscoverPublic) -> None:
        print_table(
            f"{len(data.found)} unknown publishers on {data.broker} in {data.listen_s:.0f} s "
            f"({data.publishers} heard, {data.registered_heard} registered)",
            ["device key", "first seen", "last seen", "messages", "topics", "fields"],
            [
                (f.device_key, f"{f.first_seen:%H:%M:%S}", f"{f.last_seen:%H:%M:%S}", f.messages,
                 ",".join(f.topics), ",".join(f.fields))
                for f in data.found
            ],
        )  # fmt: skip
        if data.silent_total:
            console().print(
                f"{data.silent_total} registered MQTT devices stayed silent: "
                + ", ".join(str(d.device_id) for d in data.silent),
                highlight=False,
            )

    emit(in_transaction(body), human)


@onboard_app.command("mqtt")
def onboard_mqtt_command(
    name: str,
    site: str = typer.Option(..., help="Site code."),
    kind: DeviceKind = typer.Option(DeviceKind.SENSOR, help="Device kind (sensor, gateway, …)."),
    tag: list[str] = typer.Option([], help="Repeat for several."),
) -> None:
    """Register an MQTT sensor and issue its broker password (shown once, stored hashed)."""

    async def body(platform: Platform, session: AsyncSession) -> OnboardedSensor:
        return await onboard_sensor(session, cli_principal(), platform.box, name, site, kind=kind, tags=tag)

    sensor = in_transaction(body)
    result = MqttOnboardPublic.of(sensor, with_platform(_push))

    def human(d: MqttOnboardPublic) -> None:
        console().print(f"sensor {d.device_id} [bold]{d.name}[/] at {site}", highlight=False)
        console().print(f"MQTT user name: {d.username}\npassword (shown once, keep it safe):")
        console().print(d.one_time_password, markup=False, highlight=False)
        for kind_name, topic in d.topics.items():
            console().print(f"  {kind_name:<9} {topic}", markup=False, highlight=False)
        console().print(d.broker, markup=False, highlight=False)

    emit(result, human)


DEPRECATED_SENSOR = (
    "warning: `ioc onboard sensor` is deprecated, use `ioc onboard mqtt` (same options and output)"
)


# ``ioc onboard sensor``, the name before every protocol's onboarding was ``onboard PROTOCOL``: kept,
# hidden, for the scripts that call it. Same options (the signature is ``onboard mqtt``'s) and stdout.
@functools.wraps(onboard_mqtt_command)
def _onboard_sensor_alias(*args: Any, **kwargs: Any) -> None:
    typer.echo(DEPRECATED_SENSOR, err=True)
    onboard_mqtt_command(*args, **kwargs)


onboard_app.command("sensor", hidden=True, help="Deprecated name of `ioc onboard mqtt`.")(
    _onboard_sensor_alias
)


@mqtt_app.command("broker-config")
def broker_config(
    port: int | None = typer.Option(None, help="Listener port (default: IOC_MQTT_URL's port)."),
    host: str = typer.Option("127.0.0.1", help="Listener address."),
    run_as: str | None = typer.Option(None, help="User Mosquitto runs as when started as root."),
) -> None:
    """Write mosquitto.conf, the password and ACL files under IOC_HOME/mosquitto."""
    settings = Settings()
    files = broker_files(settings)
    listen = port or (settings.mqtt_url.port if settings.mqtt_url else MqttEndpoint.DEFAULT_PORT)
    files.write_config(listen, host=host, run_as_user=run_as)

    async def fill(platform: Platform) -> str:
        return await _push(platform)

    status = with_platform(fill)
    emit(
        {"config": str(files.config_file), "port": listen, "broker": status},
        lambda d: console().print(
            f"wrote {d['config']}\nstart it with: mosquitto -c {d['config']}\n{d['broker']}", highlight=False
        ),
    )


@mqtt_app.command("sync")
def sync_command() -> None:
    """Regenerate the broker's password/ACL files from the registry and reload the broker."""
    emit({"broker": with_platform(_push)}, lambda d: console().print(d["broker"], highlight=False))


@mqtt_app.command("revoke")
def revoke_command(device: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Device id.")) -> None:
    """Revoke a sensor's broker credential; a connected sensor is cut off at the reload."""

    async def body(_: Platform, session: AsyncSession) -> bool:
        return await revoke_sensor(session, cli_principal(), device)

    revoked = in_transaction(body)
    status = with_platform(_push)
    emit(
        {"device_id": device, "revoked": revoked, "broker": status},
        lambda d: console().print(
            f"device {device}: {'revoked' if d['revoked'] else 'had no active credential'}; {d['broker']}",
            highlight=False,
        ),
    )


@mqtt_app.command("rotate")
def rotate_command(device: int = typer.Argument(..., min=1, max=MAX_ROW_ID, help="Device id.")) -> None:
    """Issue a new broker password for a sensor (shown once); the old one stops working at the reload."""

    async def body(_: Platform, session: AsyncSession) -> str:
        return (await rotate_sensor_password(session, cli_principal(), device)).get_secret_value()

    password = in_transaction(body)
    status = with_platform(_push)
    emit(
        {"device_id": device, "username": str(device), "one_time_password": password, "broker": status},
        lambda d: console().print(
            f"new password for {d['username']} (shown once):\n{d['one_time_password']}\n{d['broker']}",
            markup=False,
            highlight=False,
        ),
    )


@deadletters_app.command("list")
def deadletters_list(
    device: int | None = typer.Option(None, min=1, max=MAX_ROW_ID, help="Only this device id."),
    reason: RejectReason | None = typer.Option(None, help="Only this reason."),
    limit: int = typer.Option(50, min=1, max=1000),
    before: int | None = typer.Option(None, min=1, max=MAX_ROW_ID, help="Page back: ids below this one."),
) -> None:
    """Newest first."""

    async def query(platform: Platform) -> list[dict[str, Any]]:
        rows = await list_dead_letters(
            platform.sessions, device_id=device, reason=reason, limit=limit, before_id=before
        )
        return [row.model_dump(mode="json") for row in rows]

    rows = with_platform(query)

    def human(items: list[dict[str, Any]]) -> None:
        print_table(
            f"{len(items)} dead letters",
            ["id", "received", "device", "reason", "detail", "bytes", "payload"],
            [
                (r["id"], r["received_at"], r["device_id"], r["reason"], r["detail"], r["payload_size"],
                 r["payload_text"][:60])
                for r in items
            ],
        )  # fmt: skip

    emit(rows, human)


@telemetry_app.command("import")
def telemetry_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    device: int = typer.Option(
        ..., "--device", min=1, max=MAX_ROW_ID, help="Device id the payloads belong to."
    ),
    format: PayloadFormat = typer.Option(..., "--format", help="senml or json"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and resolve; store nothing."),
) -> None:
    """Check a file (one payload, or JSON Lines) as the MQTT ingest would; exit 1 on any rejection."""
    payloads = split_payloads(file.read_bytes())

    async def main(platform: Platform) -> dict[str, Any]:
        directory = CredentialDirectory(platform.sessions)
        if dry_run:
            result = await import_payloads(
                payloads, device, format, directory=directory, now=time.time(), sink=None
            )
            return result.to_json()
        # Its own spool: a writer owns its spool folder, and `ioc serve` may be running on the main one.
        config = replace(writer_config(platform.settings), spool_dir=import_spool(platform.settings))
        async with TelemetryWriter(config) as writer:
            result = await import_payloads(
                payloads, device, format, directory=directory, now=time.time(), sink=writer
            )
        out = result.to_json()
        out["spool"] = str(config.spool_dir)
        out["pending_delivery"] = await asyncio.to_thread(_pending, config.spool_dir)
        return out

    result = with_platform(main)

    def human(d: dict[str, Any]) -> None:
        verb = "valid (dry run)" if dry_run else "stored"
        console().print(f"{len(d['accepted'])} records {verb}, {len(d['rejected'])} payloads rejected")
        if d.get("pending_delivery"):
            console().print(
                f"{d['pending_delivery']} points not yet delivered wait in {d['spool']} for the next import"
            )
        for item in d["rejected"]:
            console().print(f"  item {item['item']}: {item['reason']}: {item['detail']}", markup=False)

    emit(result, human)
    if result["rejected"]:
        raise CliError(f"{len(result['rejected'])} payload(s) rejected", exit_code=1)


def import_spool(settings: Settings) -> Path:
    return settings.home / "spool-import"


def _pending(spool_dir: Path) -> int:
    """Points the import's writer could not deliver before it stopped; sent by the next import."""
    with closing(sqlite3.connect(spool_dir / SPOOL_FILE)) as conn:
        return read_status(conn, spool_dir / SPOOL_FILE).pending_points
