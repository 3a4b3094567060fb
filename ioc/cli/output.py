"""How every command speaks: JSON on stdout with ``--json``, rich tables otherwise, errors on stderr.

Commands never print directly; they hand data to :func:`emit` and raise :class:`CliError` on failure,
so that ``--json`` output stays machine-readable and errors always leave with a non-zero exit.

rich is imported when something is first printed for a human (:func:`console`, :func:`print_table`),
not before: ``ioc --json …`` never needs it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel, SecretStr
    from rich.console import Console

    from provisioning.errors import DeviceError


@dataclass
class OutputMode:
    json: bool = False


MODE = OutputMode()
"""Set once by the root callback from the global ``--json`` flag; read by :func:`emit`."""


@cache
def console(*, stderr: bool = False) -> Console:
    """The rich console on stdout (or stderr), made on first use."""
    from rich.console import Console

    return Console(stderr=stderr)


def show_notes(notes: Iterable[str]) -> None:
    """A probe's or onboarding's notes, one ``note:`` line each, printed as they are (no markup)."""
    for note in notes:
        console().print(f"note: {note}", highlight=False, markup=False)


class CliError(Exception):
    """A user-facing failure: message to stderr, exit code non-zero. ``details`` go to JSON output."""

    def __init__(self, message: str, *, exit_code: int = 1, details: Any = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = details


DEVICE_EXIT_CODES = (
    ("DeviceUnreachable", 3),
    ("DeviceTimeout", 4),
    ("AuthFailed", 5),
    ("NotSupported", 6),
    ("MalformedResponse", 7),
    ("DeviceError", 8),
)
"""One exit code per kind of device failure (``provisioning.errors`` classes, by name so that ``ioc
--help`` imports no product package), for every protocol's commands; a protocol's own kinds, such as
ONVIF's ``clock_skew``, take their base type's code. 1 is any other failure, 2 bad input."""


def device_exit_code(error: DeviceError) -> int:
    from provisioning import errors

    return next(code for name, code in DEVICE_EXIT_CODES if isinstance(error, getattr(errors, name)))


def device_error(error: DeviceError) -> CliError:
    """The CLI's side of ``provisioning.responses``: the same ``kind``, ``retryable`` and ``field``
    as the API's body, under ``details`` with ``--json``."""
    details = {"kind": error.kind, "retryable": error.retryable, "field": error.field}
    return CliError(str(error), exit_code=device_exit_code(error), details=details)


def parse_target(split: Callable[[str], tuple[str, int]], target: str) -> tuple[str, int]:
    """``HOST[:PORT]`` through a protocol endpoint's ``split`` (its default port); exit 2 when bad."""
    try:
        return split(target)
    except ValueError as error:
        raise CliError(str(error), exit_code=2) from None


def to_jsonable(value: Any) -> Any:
    import pydantic  # here, not at the top: ``ioc --help`` needs no pydantic

    return _jsonable(value, pydantic.BaseModel, pydantic.SecretStr)


def _jsonable(value: Any, model: type[BaseModel], secret: type[SecretStr]) -> Any:
    """:func:`to_jsonable`'s walk, with pydantic's two types imported once per call, not per value."""
    if isinstance(value, model):
        return _jsonable(value.model_dump(mode="json"), model, secret)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, model, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, model, secret) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (Decimal, Path)):
        return str(value)
    if isinstance(value, secret):
        return "**********"
    return value


def emit(data: Any, human: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON (``--json``) or through ``human``; plain JSON when no renderer is given."""
    if MODE.json or human is None:
        sys.stdout.write(json.dumps(to_jsonable(data), ensure_ascii=False, indent=None) + "\n")
        sys.stdout.flush()
    else:
        human(data)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if cell is None else str(cell) for cell in row])
    console().print(table)


def report_error(error: CliError) -> None:
    if MODE.json:
        payload = {"error": str(error)}
        if error.details is not None:
            payload["details"] = to_jsonable(error.details)
        sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        stderr_console = console(stderr=True)
        stderr_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        if error.details:
            for line in error.details if isinstance(error.details, list) else [error.details]:
                stderr_console.print(f"  {to_jsonable(line)}", highlight=False, markup=False)
