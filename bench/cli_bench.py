"""Start-up time of the ``ioc`` command, next to the interpreter's own in the same run.

Targets (issue 19 item 8): ``ioc --help`` and ``ioc sites list`` each under 0.4 s. The tests check
import lists (tests/unit/test_cli_imports.py), not times; the times live here.

Set-up: a temporary ``IOC_HOME`` on the embedded SQLite defaults, made by ``ioc init`` and three
``ioc sites add``. Then every command runs ``--runs`` times, round-robin so that a change in the
machine's load hits each of them alike. The table gives min and median wall time per command, and its
CPU time (user + system, the child's rusage), which a loaded machine inflates less than wall time:

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


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, from the child's own rusage) of one run."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{shlex.join(argv)} exited {child.returncode}:\n{errors.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


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
        _timed([*ioc, "--json", "init"], env)
        for code in ("BENCH1", "BENCH2", "BENCH3"):
            _timed([*ioc, "sites", "add", code, f"Site {code}", "--kind", "province"], env)

        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sqlalchemy"': [sys.executable, "-c", "import sqlalchemy"],
            "ioc --help": [*ioc, "--help"],
            "ioc sites list": [*ioc, "sites", "list"],
            "ioc --json sites list": [*ioc, "--json", "sites", "list"],
        }
        load_before = _loadavg()
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        for argv in commands.values():  # one warm-up each: page cache and .pyc files
            _timed(argv, env)
        for _ in range(runs):
            for label, argv in commands.items():
                times[label].append(_timed(argv, env))
        load_after = _loadavg()

    print(f"ioc = {shlex.join(ioc)}")
    print(f"{runs} runs each, round-robin; /proc/loadavg before: {load_before}, after: {load_after}")
    print(f"{'command':<32} {'wall min':>9} {'median':>7} {'cpu min':>8} {'median':>7}")
    for label, seen in times.items():
        wall, cpu = [w for w, _ in seen], [c for _, c in seen]
        target = f"  (target < {TARGET_S} s wall)" if label in ("ioc --help", "ioc sites list") else ""
        print(
            f"{label:<32} {min(wall):>9.3f} {statistics.median(wall):>7.3f}"
            f" {min(cpu):>8.3f} {statistics.median(cpu):>7.3f}{target}"
        )


if __name__ == "__main__":
    main()
