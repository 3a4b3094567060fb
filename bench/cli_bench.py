"""Start-up time of the ``ioc`` command, next to the interpreter's own in the same run.

Targets (issue 19 item 8): ``ioc --help`` and ``ioc sites list`` each under 0.4 s. The tests check
import lists (tests/unit/test_cli_imports.py), not times; the times live here.

Set-up: a temporary ``IOC_HOME`` on the embedded SQLite defaults, made by ``ioc init`` and three
``ioc sites add``. Then every command runs ``--runs`` times, round-robin so that a change in the
machine's load hits each of them alike, and the table gives min and median wall time per command:

* ``python -c pass``: the interpreter (with this venv's ``site``) and nothing else;
* ``python -c "import sqlalchemy"``: the one library ``ioc sites list`` cannot do without;
* ``ioc --help``, ``ioc sites list`` (rich table) and ``ioc --json sites list``, through the installed
  ``ioc`` script (the console entry point ``ioc.cli.main:main``).

Run (from the repository root): .venv/bin/python -m bench.cli_bench [--runs 10] [--ioc "python -m ioc"]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.4


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _ioc_command(given: str | None) -> list[str]:
    if given:
        return shlex.split(given)
    script = Path(sys.executable).parent / "ioc"
    if not script.exists():
        raise SystemExit(f"no {script}: install the project first (bash scripts/bootstrap.sh)")
    return [str(script)]


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument(
        "--ioc", help="how to start ioc, e.g. 'python -m ioc' (default: the ioc script next to this python)"
    )
    args = parser.parse_args()
    runs = args.runs
    ioc = _ioc_command(args.ioc)
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as home:
        env = {**os.environ, "IOC_HOME": home}
        for name in ("IOC_DATABASE_URL", "IOC_CONFIG", "IOC_SECRET_KEY"):
            env.pop(name, None)
        _wall([*ioc, "--json", "init"], env)
        for code in ("BENCH1", "BENCH2", "BENCH3"):
            _wall([*ioc, "sites", "add", code, f"Site {code}", "--kind", "province"], env)

        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
            "ioc --help": [*ioc, "--help"],
            "ioc sites list": [*ioc, "sites", "list"],
            "ioc --json sites list": [*ioc, "--json", "sites", "list"],
        }
        load_before = _loadavg()
        times: dict[str, list[float]] = {label: [] for label in commands}
        for argv in commands.values():  # one warm-up each: page cache and .pyc files
            _wall(argv, env)
        for _ in range(runs):
            for label, argv in commands.items():
                times[label].append(_wall(argv, env))
        load_after = _loadavg()

    print(f"ioc = {shlex.join(ioc)}")
    print(f"{runs} runs each, round-robin; /proc/loadavg before: {load_before}, after: {load_after}")
    print(f"{'command':<32} {'min s':>7} {'median s':>9}")
    for label, seen in times.items():
        target = f"  (target < {TARGET_S} s)" if label in ("ioc --help", "ioc sites list") else ""
        print(f"{label:<32} {min(seen):>7.3f} {statistics.median(seen):>9.3f}{target}")


if __name__ == "__main__":
    main()
