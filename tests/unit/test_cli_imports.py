"""A fast ``ioc``: ``--help`` imports no command's dependencies, and a command imports only its own.

Checked by the import list of a fresh interpreter, not by a clock: the machine's load would make
a time flaky, while an import that sneaks back to the top of a module shows up here every time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

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
    print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
    """
)


def ran(*argv: str, home: Path | None = None) -> tuple[str, set[str]]:
    """``ioc ARGV`` in a fresh interpreter: its stdout, and every module loaded after it (a ``None`` entry
    in ``sys.modules`` is an import blocked on purpose, such as ``httpx._main``, not a module)."""
    env = {**os.environ}
    for name in ("IOC_DATABASE_URL", "IOC_CONFIG", "IOC_SECRET_KEY"):
        env.pop(name, None)
    if home is not None:
        env["IOC_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_AFTER, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    *output, modules = done.stdout.splitlines()
    return "\n".join(output), set(json.loads(modules))


def imported_by(*argv: str, home: Path | None = None) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``ioc ARGV`` ran in a fresh interpreter."""
    return {name.partition(".")[0] for name in ran(*argv, home=home)[1]}


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


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``IOC_HOME`` on the embedded SQLite defaults with two sites, made through the CLI itself."""
    home = tmp_path_factory.mktemp("cli-home")
    env = {**os.environ, "IOC_HOME": str(home)}
    for name in ("IOC_DATABASE_URL", "IOC_CONFIG", "IOC_SECRET_KEY"):
        env.pop(name, None)
    for argv in (
        ["--json", "init"],
        ["sites", "add", "HY1", "Hưng Yên"],
        ["sites", "add", "HY2", "Phố Hiến"],
    ):
        subprocess.run(
            [sys.executable, "-m", "ioc", *argv], env=env, capture_output=True, timeout=120, check=True
        )
    return home


WEB_AND_MIGRATIONS = ("fastapi", "starlette", "uvicorn", "alembic", "jinja2", "httpx")
NOT_FOR_A_SITE_LIST = (
    "device_registry.api",  # the REST layer
    "device_registry.services.users",  # was imported by ioc.settings for a type
    "device_registry.credentials",  # was imported by device_registry.crypto, which only opens the box here
    "cryptography.hazmat.primitives.kdf.hkdf",  # page sessions only
    "device_registry.services.vn",  # the boundary data: load-vn and the reform only
    "device_registry.importer",
    "ioc.app",
    "ioc.migrate",
)


def test_sites_list_imports_the_registry_and_nothing_it_does_not_query(home: Path) -> None:
    output, modules = ran("sites", "list", home=home)
    assert "Hưng Yên" in output and "Phố Hiến" in output  # the probe sees a command that really ran
    packages = {name.partition(".")[0] for name in modules}
    assert {"sqlalchemy", "aiosqlite", "device_registry", "rich"} <= packages
    unwanted = set(HEAVY + WEB_AND_MIGRATIONS + ("telemetry", "grafana"))
    assert packages.isdisjoint(unwanted), sorted(packages & unwanted)
    assert modules.isdisjoint(NOT_FOR_A_SITE_LIST), sorted(modules & set(NOT_FOR_A_SITE_LIST))


def test_sites_list_as_json_imports_no_rich(home: Path) -> None:
    output, modules = ran("--json", "sites", "list", home=home)
    assert [site["code"] for site in json.loads(output)["items"]] == ["HY1", "HY2"]
    packages = {name.partition(".")[0] for name in modules}
    assert "rich" not in packages
    assert packages.isdisjoint(HEAVY + WEB_AND_MIGRATIONS), sorted(packages & set(HEAVY + WEB_AND_MIGRATIONS))


NOT_FOR_A_LISTING = (
    *("pysnmp", "zeep", "onvif", "aiohttp", "aiomqtt", "paho", "httpx", "niquests"),  # protocol clients
    *("fastapi", "starlette", "uvicorn", "alembic", "grafana_client", "grafana_foundation_sdk"),
    "apprise",  # notification delivery: configuring channels, not listing alerts
)


@pytest.mark.parametrize(
    "command",
    [
        ("devices", "list"),
        ("users", "list"),
        ("status",),
        ("outages", "list"),
        ("maintenance", "list"),
        ("alerts", "list"),
    ],
    ids=" ".join,
)
def test_listings_as_json_import_no_rich_no_protocol_client_and_no_notifier(
    home: Path, command: tuple[str, ...]
) -> None:
    """``status``, ``outages`` and ``maintenance`` used to import every protocol client (pysnmp, zeep,
    aiohttp) through the SLA query and ``ioc check``'s checks, and ``alerts list`` apprise through the
    alerting admin; only ``check``, ``sla report`` and the alerting configuration commands need them."""
    output, modules = ran("--json", *command, home=home)
    json.loads(output)  # the command ran and answered
    packages = {name.partition(".")[0] for name in modules}
    assert "rich" not in packages
    assert packages.isdisjoint(NOT_FOR_A_LISTING), sorted(packages & set(NOT_FOR_A_LISTING))


def test_a_protocol_command_as_json_imports_no_rich(home: Path) -> None:
    """``deadletters`` loads the MQTT commands' module, which imports httpx: neither the module's own
    printing nor httpx's command line (``ioc`` hides ``httpx._main``) may pull rich in."""
    output, modules = ran("--json", "deadletters", "list", home=home)
    json.loads(output)
    packages = {name.partition(".")[0] for name in modules}
    assert {"httpx", "typer"} <= packages  # the probe sees the path that used to bring rich along
    assert "rich" not in packages


_COLLECTOR_IN_BODY = textwrap.dedent(
    """
    import gc, json, sys
    import ioc.cli.context as context
    from ioc.cli import main as cli

    seen = {}
    in_transaction = context.in_transaction

    def spy(body, **options):  # ioc.cli.sites binds it when ``sites`` loads, after this
        seen["body"] = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
        return in_transaction(body, **options)

    context.in_transaction = spy
    entry = getattr(cli, sys.argv.pop(1))
    try:
        entry()
    except SystemExit as leaving:
        seen["exit"] = leaving.code
    seen["after"] = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
    print(json.dumps(seen))
    """
)


def collector_seen(entry: str, home: Path) -> dict[str, Any]:
    env = {**os.environ, "IOC_HOME": str(home)}
    env.pop("IOC_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _COLLECTOR_IN_BODY, entry, "--json", "sites", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    seen: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return seen


def test_the_ioc_process_freezes_its_imports_and_collects_again_before_the_command_runs(home: Path) -> None:
    """``main`` (console script, ``python -m ioc``): the command body, like a long-running ``ioc serve``,
    runs with the collector on; what the imports built is frozen, and so is everything on exit."""
    seen = collector_seen("main", home)
    assert seen["exit"] == 0
    assert seen["body"]["enabled"] is True
    assert seen["body"]["frozen"] > 50_000, seen  # SQLAlchemy, pydantic, typer, the registry's models
    assert seen["after"]["frozen"] > seen["body"]["frozen"]


def test_run_in_a_callers_process_leaves_its_collector_alone(home: Path) -> None:
    seen = collector_seen("run", home)
    assert seen["exit"] == 0
    assert seen["body"] == {"enabled": True, "frozen": 0}
    assert seen["after"] == {"enabled": True, "frozen": 0}


def test_the_console_script_and_python_m_ioc_start_through_main() -> None:
    root = Path(__file__).resolve().parents[2]
    with (root / "pyproject.toml").open("rb") as file:
        assert tomllib.load(file)["project"]["scripts"]["ioc"] == "ioc.cli.main:main"
    assert "main()" in (root / "ioc" / "__main__.py").read_text().split()
