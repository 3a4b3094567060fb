"""``ioc grafana export|push``: the IOC dashboards as provisioning files, or straight into a Grafana.

The API token comes from ``IOC_GRAFANA_TOKEN`` only (never argv, where ``ps`` shows it to everyone),
and is never printed. The datasource ``push`` creates points Grafana at the InfluxDB named by the
platform's own ``IOC_INFLUX_*`` settings unless ``--influx-url`` says how Grafana reaches it.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from grafana.provisioning import ExportRefused, datasource_fields, export
from grafana.push import GrafanaPusher, PushError
from ioc.cli.main import app
from ioc.cli.output import CliError, emit, print_table
from ioc.settings import Settings

grafana_app = typer.Typer(
    help="Grafana: dashboards as provisioning files (export) or through the API (push)."
)
app.add_typer(grafana_app, name="grafana")

TOKEN_ENV = "IOC_GRAFANA_TOKEN"


@grafana_app.command("export")
def export_command(
    directory: Path = typer.Argument(..., help="Target folder: provisioning/ and dashboards/ go in it."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty folder, replacing IOC files."),
) -> None:
    """Write the datasource and dashboard-provider YAML and the dashboards' JSON for Grafana."""
    try:
        written = export(directory, force=force)
    except ExportRefused as error:
        raise CliError(str(error)) from None
    emit(
        {"directory": str(directory), "files": [str(p.relative_to(directory)) for p in written]},
        lambda data: print_table(f"Exported to {data['directory']}", ["file"], [[f] for f in data["files"]]),
    )


@grafana_app.command("push")
def push_command(
    url: str = typer.Option(..., "--url", help="Grafana base URL, e.g. http://127.0.0.1:3000"),
    influx_url: str | None = typer.Option(
        None, "--influx-url", help="InfluxDB URL as Grafana reaches it (default: IOC_INFLUX_URL)."
    ),
    database: str | None = typer.Option(
        None, "--database", help="InfluxDB database (default: IOC_INFLUX_DATABASE)."
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, max=300, help="Seconds per request."),
) -> None:
    """Create or update the IOC folder, InfluxQL datasource and dashboards (token: IOC_GRAFANA_TOKEN)."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise CliError(f"{TOKEN_ENV} is not set: create a service-account token in Grafana and export it")
    settings = Settings()
    source_url = influx_url or settings.influx_url
    source_db = database or settings.influx_database
    if not source_url or not source_db:
        raise CliError(
            "the datasource needs --influx-url and --database (or IOC_INFLUX_URL, IOC_INFLUX_DATABASE)"
        )
    password = settings.influx_password.get_secret_value() if settings.influx_password else None
    fields = datasource_fields(
        url=source_url, database=source_db, user=settings.influx_username, password=password
    )
    try:
        report = GrafanaPusher(url, token, timeout=timeout).push(fields)
    except PushError as error:
        raise CliError(str(error)) from None
    data = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    emit(
        data,
        lambda d: print_table(
            f"Grafana {url}",
            ["object", "result"],
            [(o, k) for k in ("created", "updated", "unchanged") for o in d[k]],
        ),
    )
