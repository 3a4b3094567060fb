"""`ioc demo` (what `bash scripts/demo.sh` runs) and `ioc demo fault NAME` (from a second shell)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import typer

from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit
from ioc.demo.faults import FAULTS
from ioc.demo.fleet import SIZES
from ioc.demo.home import DemoAlreadyRunning, DemoPaths, running_pid
from ioc.settings import Settings
from simulators.process import MissingBinary

demo_app = typer.Typer(help="A living Thái Bình fleet on real Mosquitto, InfluxDB and a local mailbox.")
app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    size: str = typer.Option("small", help=f"Fleet size: {' or '.join(SIZES)} (~60 or ~1,000 devices)."),
    timeline: bool = typer.Option(True, help="Play the scripted faults on their timeline."),
    timeline_scale: float = typer.Option(
        1.0, min=0.01, max=100, help="Stretch (>1) or compress the timeline."
    ),
) -> None:
    """Start the servers, simulators and `ioc serve`, onboard the fleet, play faults; Ctrl-C stops all."""
    if ctx.invoked_subcommand is not None:
        return
    if size not in SIZES:
        raise CliError(f"--size: {size!r} is not one of {', '.join(SIZES)}", exit_code=2)
    from ioc.demo.supervisor import Supervisor

    settings = Settings()
    supervisor = Supervisor(
        settings,
        size,
        timeline=timeline,
        timeline_scale=timeline_scale,
        say=lambda line: print(line, flush=True),
    )
    try:
        asyncio.run(supervisor.run())
    except (DemoAlreadyRunning, MissingBinary) as error:
        raise CliError(str(error)) from None
    except RuntimeError as error:  # a server that did not start: its log tail says why
        raise CliError(f"the demo could not start: {error}") from None


@demo_app.command("fault")
def fault(
    name: str = typer.Argument(..., help=f"One of: {', '.join(FAULTS)}."),
    target: str | None = typer.Option(
        None, help="District key, camera or sensor name (default: the usual one)."
    ),
    duration: float | None = typer.Option(None, min=1, max=3600, help="Seconds before it is undone."),
) -> None:
    """Ask the running demo (same IOC_HOME) to play one fault now."""
    if name not in FAULTS:
        raise CliError(f"NAME: {name!r} is not a fault; known: {', '.join(FAULTS)}", exit_code=2)
    paths = DemoPaths(Settings().home)
    if running_pid(paths) is None:
        raise CliError(f"no demo is running in {paths.home}: start one with `ioc demo`")
    request_id = f"{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    request = paths.requests / f"{request_id}.json"
    temporary = paths.requests / f".{request_id}.tmp"
    temporary.write_text(json.dumps({"fault": name, "target": target, "duration": duration}))
    temporary.replace(request)
    reply = request.with_suffix(".reply")
    deadline = time.monotonic() + 15
    while not reply.exists():
        if time.monotonic() > deadline:
            raise CliError("the demo did not take the request within 15 s")
        time.sleep(0.1)
    answer = json.loads(reply.read_text())
    reply.unlink()
    if not answer["ok"]:
        raise CliError(answer["message"], exit_code=2)
    emit(answer, lambda d: console().print(d["message"], markup=False, highlight=False, soft_wrap=True))
