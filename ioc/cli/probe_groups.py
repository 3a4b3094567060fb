"""The ``probe``, ``discover`` and ``onboard`` command groups; each protocol adds its own sub-command."""

from __future__ import annotations

import typer

from ioc.cli.main import app

probe_app = typer.Typer(
    help="Read a device's identity and capabilities without saving anything.", no_args_is_help=True
)
discover_app = typer.Typer(help="Find devices on a network segment.", no_args_is_help=True)
onboard_app = typer.Typer(help="Probe a device, then save it in the registry.", no_args_is_help=True)

app.add_typer(probe_app, name="probe")
app.add_typer(discover_app, name="discover")
app.add_typer(onboard_app, name="onboard")
