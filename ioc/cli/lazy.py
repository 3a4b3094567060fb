"""A root command group that imports a sub-command's module only when that sub-command runs."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer import _click as click  # typer vendors click; TyperGroup's methods are typed against its copy
from typer.core import TyperCommand, TyperGroup

from ioc.cli.commands import COMMANDS, Entry


class _Pending(TyperCommand):
    """Stands in for a command whose module is not imported yet: enough for ``ioc --help``."""

    def __init__(self, name: str, entry: Entry) -> None:
        super().__init__(name, help=entry.help)
        self.entry = entry


class LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            self.commands.setdefault(name, _Pending(name, entry))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        pending = self.commands.get(args[0]) if args else None
        if isinstance(pending, _Pending):
            self.commands[args[0]] = _load(args[0], pending.entry)
        return super().resolve_command(ctx, args)


def _load(name: str, entry: Entry) -> click.Command:
    """Import the modules that register ``name`` on the root app, then build its click command."""
    from ioc.cli.main import app

    for module in entry.modules:
        importlib.import_module(module)
    command = typer.main.get_group(app).commands[name]
    assert not isinstance(command, _Pending), f"{entry.modules} register no command {name!r}"
    return command
