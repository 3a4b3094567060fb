"""The demo's corner of IOC_HOME (``IOC_HOME/demo``): its state, its lock, its ports, its env file.

Everything a rerun needs to reuse what exists is in ``state.json`` (0600: it holds the demo's
passwords and admin token, which are demo secrets on loopback): the loopback net, the ports, the
platform's broker password and the sensors' passwords, shown once by onboarding and kept here so
the simulated sensors can log in again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from simulators.process import port_free

DEFAULT_PORTS = {
    "api": 8080,
    "mqtt": 1883,
    "influx": 8086,
    "influx_rpc": 8088,
    "smtp": 2525,
    "rtsp": 8554,
    "rtsp_fault": 8555,
}


class DemoAlreadyRunning(Exception):
    def __init__(self, pid: int | None, home: Path) -> None:
        self.pid = pid
        who = f"PID {pid}" if pid else "another process"
        super().__init__(
            f"a demo is already running in {home} ({who}); stop it first (Ctrl-C or kill -TERM {pid})"
        )


@dataclass(frozen=True)
class DemoPaths:
    home: Path

    @property
    def root(self) -> Path:
        return self.home / "demo"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def lock(self) -> Path:
        return self.root / "demo.pid"

    @property
    def env(self) -> Path:
        return self.root / "env"

    @property
    def mail(self) -> Path:
        return self.root / "mail"

    @property
    def control(self) -> Path:
        return self.root / "control"

    @property
    def requests(self) -> Path:
        return self.root / "requests"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids.json"

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def make(self) -> None:
        for path in (self.root, self.mail, self.control, self.requests, self.logs):
            path.mkdir(parents=True, exist_ok=True)


class DemoLock:
    """One demo per IOC_HOME: an exclusive ``flock`` on ``demo.pid``, which holds the owner's PID.

    The kernel drops the lock when the owner dies, however it dies, so a stale file never blocks.
    """

    def __init__(self, paths: DemoPaths) -> None:
        self.paths = paths
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.paths.lock, "a+")  # noqa: SIM115 - held for the demo's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DemoAlreadyRunning(running_pid(self.paths), self.paths.home) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self.paths.lock.unlink()
            self._handle.close()
            self._handle = None


def running_pid(paths: DemoPaths) -> int | None:
    """The PID of the demo holding the lock, or None when no demo runs in this IOC_HOME."""
    try:
        handle = open(paths.lock)  # noqa: SIM115
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else None
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def load_state(paths: DemoPaths) -> dict[str, Any]:
    try:
        return dict(json.loads(paths.state.read_text()))
    except FileNotFoundError:
        return {}


def save_state(paths: DemoPaths, state: dict[str, Any]) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    temporary = paths.state.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    temporary.replace(paths.state)


def secret(state: dict[str, Any], key: str) -> str:
    """A demo password kept in the state, made on first use."""
    secrets_map = state.setdefault("secrets", {})
    if key not in secrets_map:
        secrets_map[key] = secrets.token_urlsafe(18)
    return str(secrets_map[key])


def choose_ports(
    state: dict[str, Any], wanted: dict[str, int] | None = None
) -> tuple[dict[str, int], list[str]]:
    """Each service's port: the one used last time, else the usual one, else a free one. A port in
    use is skipped; returns the ports and one note per skipped port."""
    chosen: dict[str, int] = {}
    notes: list[str] = []
    previous = state.get("ports", {})
    for name, default in {**DEFAULT_PORTS, **(wanted or {})}.items():
        first = int(previous.get(name, default))
        taken = set(chosen.values())
        if first not in taken and port_free(first):
            chosen[name] = first
            continue
        candidate = next(
            (p for p in range(first + 1, first + 50) if p not in taken and p <= 65535 and port_free(p)), None
        )
        if candidate is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                candidate = int(sock.getsockname()[1])
        notes.append(f"port {first} ({name}) is in use: using {candidate}")
        chosen[name] = candidate
    state["ports"] = chosen
    return chosen, notes


def choose_net(state: dict[str, Any], probe_port: int) -> int:
    """The second octet of the fleet's loopback addresses (127.N.x.y): kept once chosen; a fresh
    IOC_HOME takes the first N whose core address is free, so two demos do not collide."""
    if "net" in state:
        return int(state["net"])
    for net in range(10, 250):
        if port_free(probe_port, f"127.{net}.0.1", socket.SOCK_DGRAM) and port_free(
            8000, f"127.{net}.101.11"
        ):
            state["net"] = net
            return net
    raise RuntimeError("no free 127.N.0.0/16 loopback net for the demo fleet")


def write_env(paths: DemoPaths, values: dict[str, str]) -> None:
    """``IOC_HOME/demo/env``: ``source`` it in a second shell to use the running demo."""
    lines = ["# Source this in a second shell: . " + str(paths.env)]
    lines += [f"export {key}={_quote(value)}" for key, value in values.items()]
    fd = os.open(paths.env, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
