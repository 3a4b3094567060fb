"""The ``ioc telemetry`` command group, shared by the modules that add commands to it."""

from __future__ import annotations

import typer

from ioc.cli.main import app

telemetry_app = typer.Typer(help="Telemetry: import, status.", no_args_is_help=True)
app.add_typer(telemetry_app, name="telemetry")
