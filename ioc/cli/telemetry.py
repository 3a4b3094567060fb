"""``ioc telemetry status|quarantine``: read the writer's spool on disk (works while the writer runs)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from ioc.cli.main import app
from ioc.cli.output import CliError, emit, print_table
from ioc.settings import Settings
from telemetry.spool import SPOOL_FILE, list_quarantine, read_status

telemetry_app = typer.Typer(help="The durable telemetry writer: spool, delivery counters, quarantine.")
app.add_typer(telemetry_app, name="telemetry")

SpoolDirOption = typer.Option(None, "--spool-dir", help="Spool folder (default: IOC_HOME/spool).")


def _open(spool_dir: Path | None) -> tuple[sqlite3.Connection, Path]:
    path = (spool_dir or Settings().spool_dir) / SPOOL_FILE
    if not path.is_file():
        raise CliError(f"no telemetry spool at {path}: the writer has not run with this IOC_HOME")
    try:
        return sqlite3.connect(path, timeout=10.0), path
    except sqlite3.Error as error:
        raise CliError(f"cannot open telemetry spool {path}: {error}") from error


def _iso(ns: object) -> str | None:
    return datetime.fromtimestamp(int(ns) / 1e9, UTC).isoformat() if isinstance(ns, int) else None


@telemetry_app.command("status")
def status(spool_dir: Path | None = SpoolDirOption) -> None:
    """Spool depth, oldest unsent age, delivery counters and the last delivery error."""
    conn, path = _open(spool_dir)
    with closing(conn):
        current = read_status(conn, path)
    data: dict[str, Any] = {
        "spool": str(current.path),
        "pending_points": current.pending_points,
        "pending_bytes": current.pending_bytes,
        "file_bytes": current.file_bytes,
        "oldest_unsent_age_s": round(current.oldest_age_s(), 3),
        "quarantined_points": current.quarantined_points,
        **current.counters,
        "last_error": current.state.get("last_error"),
        "last_error_at": _iso(current.state.get("last_error_ns")),
    }

    def human(values: dict[str, Any]) -> None:
        print_table("Telemetry writer", ["metric", "value"], [(k, v) for k, v in values.items()])

    emit(data, human)


@telemetry_app.command("quarantine")
def quarantine(
    limit: int = typer.Option(50, min=1, help="Newest N quarantined points."),
    spool_dir: Path | None = SpoolDirOption,
) -> None:
    """Points the server refused, with its reason; they are kept, never retried automatically."""
    conn, _ = _open(spool_dir)
    with closing(conn):
        rows = list_quarantine(conn, limit)
    data = [
        {
            "id": row.id,
            "status": row.status,
            "reason": row.reason,
            "line": row.line,
            "quarantined_at": _iso(row.quarantined_ns),
        }
        for row in rows
    ]

    def human(items: list[dict[str, Any]]) -> None:
        print_table(
            "Quarantined points",
            ["id", "when", "HTTP", "reason", "line"],
            [(i["id"], i["quarantined_at"], i["status"], i["reason"], i["line"]) for i in items],
        )

    emit(data, human)
