"""Run ``ioc …`` in this process (a fresh interpreter costs ~2 s of CPU per call on these machines)."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import pytest

from ioc.cli.main import run


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def ioc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Done:
    """``ioc ARGS`` through the real entry point (typer parsing, CliError handling, exit code)."""
    capsys.readouterr()
    root = logging.getLogger()
    # The CLI configures logging for a process of its own (basicConfig(force=True)); put the test
    # process's handlers and level back afterwards, for the tests that share this worker.
    handlers, level = list(root.handlers), root.level
    with monkeypatch.context() as patch:
        patch.setattr(sys, "argv", ["ioc", *args])
        try:
            run()
            code = 0
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 1)
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
    out = capsys.readouterr()
    return Done(code, out.out, out.err)
