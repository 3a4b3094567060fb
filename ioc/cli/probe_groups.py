"""The ``probe``, ``discover`` and ``onboard`` command groups; each protocol adds its own sub-command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from ioc.cli.main import app
from ioc.cli.output import MODE, emit

if TYPE_CHECKING:
    from pydantic import BaseModel

    from provisioning.responses import OnboardAttempt

probe_app = typer.Typer(
    help="Read a device's identity and capabilities without saving anything.", no_args_is_help=True
)
discover_app = typer.Typer(help="Find devices on a network segment.", no_args_is_help=True)
onboard_app = typer.Typer(help="Probe a device, then save it in the registry.", no_args_is_help=True)

app.add_typer(probe_app, name="probe")
app.add_typer(discover_app, name="discover")
app.add_typer(onboard_app, name="onboard")


def emit_onboarded(
    found: BaseModel, attempts: Sequence[OnboardAttempt[Any]], human: Callable[[Any], None]
) -> None:
    """``ioc discover PROTOCOL --onboard``: the discovery as the API answers it, plus ``onboarded``, one
    :class:`~provisioning.responses.OnboardAttempt` per device found."""
    if MODE.json:
        emit({**found.model_dump(mode="json"), "onboarded": [a.model_dump(mode="json") for a in attempts]})
    else:
        human(found)


def outcome(attempt: OnboardAttempt[Any] | None) -> str | None:
    """One cell of the human table: the saved device's id, or why it was not saved."""
    if attempt is None:
        return None
    if attempt.error is not None:
        return f"not saved: {attempt.error}"
    return f"saved as {attempt.onboarded.device_id}" if attempt.onboarded is not None else None
