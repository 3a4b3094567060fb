"""Start real server binaries on free loopback ports from temp folders, and stop or kill them.

A missing binary fails the test loudly with the Debian install command: never a silent skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def require_binary(name: str, apt_package: str, *, search: Sequence[str] = ()) -> str:
    """Path of ``name`` on PATH or in ``search``; fails the test with the install command otherwise."""
    found = shutil.which(name)
    if found:
        return found
    for folder in search:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(
        f"{name} not found: install it with `apt-get install -y {apt_package}` "
        "(scripts/bootstrap.sh does this from scripts/apt.d/)",
        pytrace=False,
    )


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel says is free on 127.0.0.1 now (TCP by default, UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_tcp(port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


@dataclass
class ManagedProcess:
    """One server process: started with its log in ``log_path``, restartable, killable.

    ``ready`` is called after start and must return once the server answers (or raise).
    """

    argv: Sequence[str]
    log_path: Path
    ready: Callable[[], None] | None = None
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        argv = list(self.argv)
        if self.user and os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        env = {**os.environ, **(self.env or {})}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed on stop
        self.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.cwd, start_new_session=True
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

    def kill(self) -> None:
        """SIGKILL the whole process group: the crash the zero-loss tests simulate."""
        self._signal(signal.SIGKILL)
        self._wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running:
            return
        self._signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def restart(self) -> ManagedProcess:
        self.stop()
        return self.start()

    def _signal(self, sig: int) -> None:
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
