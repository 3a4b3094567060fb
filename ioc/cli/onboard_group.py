"""The ``ioc onboard`` command group (sensor, camera, …), shared by the protocol modules."""

from __future__ import annotations

import typer

from ioc.cli.main import app

onboard_app = typer.Typer(help="Onboard a device: register it and give it what it needs to connect.")
app.add_typer(onboard_app, name="onboard", no_args_is_help=True)
