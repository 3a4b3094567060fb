"""The ``ioc`` command run as an operator runs it: a fresh process on its own IOC_HOME, so the test sees
exactly what a shell would (stdout, stderr, exit code), never an in-process shortcut."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

IOC = [sys.executable, "-m", "ioc"]


def ioc(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``ioc ARGS`` with ``home`` as IOC_HOME and its own SQLite database (IOC_DATABASE_URL dropped);
    with ``check``, a non-zero exit fails the test with the command's stderr."""
    env = {**os.environ, "IOC_HOME": str(home)}
    env.pop("IOC_DATABASE_URL", None)
    result = subprocess.run([*IOC, *args], capture_output=True, text=True, env=env, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"ioc {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def ioc_json(home: Path, *args: str) -> Any:
    return json.loads(ioc(home, "--json", *args).stdout)
