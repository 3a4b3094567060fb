"""A fast ``ioc``: ``--help`` imports no command's dependencies, and a command imports only its own.

Checked by the import list of a fresh interpreter, not by a clock: the machine's load would make
a time flaky, while an import that sneaks back to the top of a module shows up here every time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = (
    "aiohttp",
    "aiomqtt",
    "alembic",
    "apprise",
    "apscheduler",
    "fastapi",
    "grafana_client",
    "grafana_foundation_sdk",
    "httpx",
    "jinja2",
    "niquests",
    "onvif",
    "paho",
    "pysnmp",
    "starlette",
    "uvicorn",
    "zeep",
)
PRODUCT = ("device_registry", "provisioning", "telemetry", "monitors", "grafana")

_IMPORTS_AFTER = textwrap.dedent(
    """
    import json, sys
    from ioc.cli.main import run
    try:
        run()
    except SystemExit:
        pass
    print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
    """
)


def imported_by(*argv: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``ioc ARGV`` ran in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_AFTER, *argv], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_help_imports_no_library_a_command_needs_nor_any_product_package() -> None:
    imported = imported_by("--help")
    assert "typer" in imported  # the probe works: it sees what the CLI itself needs
    assert imported.isdisjoint(HEAVY + PRODUCT + ("sqlalchemy", "pydantic")), sorted(
        imported & set(HEAVY + PRODUCT + ("sqlalchemy", "pydantic"))
    )


def test_sites_command_imports_the_registry_but_no_protocol_web_or_alerting_library() -> None:
    imported = imported_by("sites", "--help")
    assert {"sqlalchemy", "device_registry"} <= imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


_TREE = textwrap.dedent(
    """
    import importlib, json, sys
    import typer.main
    from ioc.cli.commands import COMMANDS, MODULES
    from ioc.cli.main import app

    KEEP = {"ioc.cli", "ioc.cli.main", "ioc.cli.lazy", "ioc.cli.commands", "ioc.cli.output"}

    def shape(command):
        help = " ".join((command.short_help or command.help or "").split("\\n\\n")[0].split())
        return [help, sorted(getattr(command, "commands", {}))]

    def built(modules):
        for name in [m for m in sys.modules if m.startswith("ioc.cli.") and m not in KEEP]:
            del sys.modules[name]
        app.registered_commands.clear()
        app.registered_groups.clear()
        for module in modules:
            importlib.import_module(module)
        return typer.main.get_group(app).commands

    lazily = {name: shape(built(entry.modules)[name]) for name, entry in COMMANDS.items()}
    every = built(MODULES)
    print(json.dumps({
        "table": {name: entry.help for name, entry in COMMANDS.items()},
        "lazily": lazily,
        "every": {name: shape(command) for name, command in every.items()},
    }))
    """
)


def test_command_table_matches_what_the_modules_register() -> None:
    """Each entry's modules alone build the whole command, and its help is the command's own."""
    done = subprocess.run(
        [sys.executable, "-c", _TREE], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(done.stdout)
    assert sorted(seen["table"]) == sorted(seen["every"])
    assert seen["lazily"] == seen["every"]
    assert seen["table"] == {name: help for name, (help, _) in seen["every"].items()}
    assert seen["every"]["probe"][1] == ["mqtt", "onvif", "snmp"]
    assert "import" in seen["every"]["telemetry"][1]
