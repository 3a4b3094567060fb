"""The one ``ioc`` command. Sub-commands live in one module each and are registered here."""

from __future__ import annotations

import logging
import sys

import typer

from ioc.cli import startup
from ioc.cli.lazy import LazyGroup
from ioc.cli.output import MODE, CliError, device_error, report_error

app = typer.Typer(
    name="ioc",
    help="IoT device management and telemetry for provincial operations centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback()
def root(
    json_output: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug detail to stderr."),
) -> None:
    startup.release_collector()  # the command's modules are loaded by now (LazyGroup.resolve_command)
    MODE.json = json_output
    # force: onvif-zeep-async calls logging.basicConfig(INFO) when imported, which would otherwise win.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def main() -> None:
    """The ``ioc`` process (console script, ``python -m ioc``): :func:`run` with the garbage collector
    held off while the command's modules load and skipped on exit (see ``ioc.cli.startup``)."""
    startup.hold_collector()
    try:
        run()
    finally:
        startup.skip_final_collection()


def run() -> None:
    """The CLI, leaving the process's garbage collector alone (tests call it in their own process).

    Click handles usage errors itself (exit 2); our ``CliError`` leaves through here, and so does a
    ``DeviceError`` a command did not run through ``context.run``."""
    try:
        app()
    except CliError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except Exception as error:
        from provisioning.errors import DeviceError  # not before: ``ioc --help`` imports no product package

        if not isinstance(error, DeviceError):
            raise
        failure = device_error(error)
        report_error(failure)
        sys.exit(failure.exit_code)
