"""How the demo supervisor steers its simulators: one empty file per active fault in a folder.

``cut-<district>`` (the district's uplink is lost: its cameras hang, its sensors fall silent),
``drift-<camera>``, ``flap-<sensor>``, ``malformed-<sensor>`` (one bad payload, then the file is
removed by the simulator). Files survive a simulator restart and need no connection to a supervisor
that may itself be restarting; the simulators look once a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

CUT = "cut-"
DRIFT = "drift-"
FLAP = "flap-"
MALFORMED = "malformed-"


class ControlFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def active(self) -> set[str]:
        try:
            return {entry.name for entry in self.folder.iterdir() if not entry.name.startswith(".")}
        except FileNotFoundError:
            return set()

    def targets(self, prefix: str) -> set[str]:
        return {name[len(prefix) :] for name in self.active() if name.startswith(prefix)}

    def since(self, prefix: str, target: str) -> float | None:
        """When the fault was set (its file's modification time), ``None`` when it is not."""
        try:
            return (self.folder / f"{prefix}{target}").stat().st_mtime
        except FileNotFoundError:
            return None

    def set(self, prefix: str, target: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{prefix}{target}").touch()

    def clear(self, prefix: str, target: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / f"{prefix}{target}").unlink()


def run_simulator(
    serve: Callable[[Path, ControlFolder], Coroutine[Any, Any, None]], description: str
) -> None:
    """The command line every steered simulator shares: ``--config FILE --control DIR``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--control", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.config, ControlFolder(args.control)))
