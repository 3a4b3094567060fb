"""Start real server binaries on loopback ports from their own folders, and stop or kill them.

Shared by the demo supervisor (``ioc demo``), the benches and the tests (``tests/support/process.py``
wraps :func:`find_binary` so a missing binary fails the test). A missing binary names the Debian
package that provides it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class MissingBinary(Exception):
    """A server binary is not installed; the message carries the install command."""

    def __init__(self, name: str, package: str, *, python: bool = False) -> None:
        """``python``: ``package`` is a PyPI package of the project's .venv, not a Debian one."""
        self.name = name
        self.package = package
        how = (
            f"the Python package {package} is part of .venv: run `bash scripts/bootstrap.sh`"
            if python
            else f"install it with `apt-get install -y {package}` "
            "(scripts/bootstrap.sh does this from scripts/apt.d/)"
        )
        super().__init__(f"{name} not found: {how}")


def find_binary(name: str, package: str, *, search: Sequence[str] = ()) -> str:
    """Path of ``name`` on PATH or in ``search``; raises :class:`MissingBinary` naming ``package``."""
    found = shutil.which(name)
    if found:
        return found
    for folder in search:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise MissingBinary(name, package)


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port the kernel says is free on ``host`` now (TCP by default, UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_free(port: int, host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> bool:
    """Whether ``host:port`` can be bound now (SO_REUSEADDR, as servers bind: TIME_WAIT is no owner)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_tcp(port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ManagedProcess:
    """One server process in its own process group: started with its log in ``log_path``,
    restartable, killable.

    ``ready`` is called after start and must return once the server answers (or raise).
    ``die_with_parent`` asks the kernel to SIGTERM it when the starting process dies, so a
    supervisor killed with SIGKILL leaves no orphan.
    """

    argv: Sequence[str]
    log_path: Path
    ready: Callable[[], None] | None = None
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    die_with_parent: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        argv = list(self.argv)
        if self.user and os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        env = {**os.environ, **(self.env or {})}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed on stop
        self.process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )
        log.close()
        if self.ready is not None:
            try:
                self.ready()
            except Exception as error:
                self.stop()
                raise RuntimeError(f"{argv[0]} did not become ready: {error}\n{self.log_tail()}") from error
        if self.process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited with {self.process.returncode}\n{self.log_tail()}")
        return self

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def kill(self) -> None:
        """SIGKILL the whole process group: the crash the zero-loss tests simulate."""
        self.signal(signal.SIGKILL)
        self._wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running:
            return
        self.signal(signal.SIGCONT)  # a paused (SIGSTOPped) server must run to handle SIGTERM
        self.signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def restart(self) -> ManagedProcess:
        self.stop()
        return self.start()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group (the server and anything it started)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def _wait(self, timeout: float) -> bool:
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
