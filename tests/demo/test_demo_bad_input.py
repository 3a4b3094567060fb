"""`ioc demo`'s refusals: each is a clear message, with nothing started and nothing left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ioc.demo.home import DemoLock, DemoPaths, choose_ports


def said(result: subprocess.CompletedProcess[str]) -> str:
    """stderr with the terminal's line wrapping undone."""
    return " ".join(result.stderr.split())


def ioc(home: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env["IOC_HOME"] = str(home)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "ioc", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_second_demo_in_the_same_home_refuses_naming_the_running_pid(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    running = DemoLock(paths)
    running.acquire()  # this test process stands for the running demo
    try:
        second = ioc(tmp_path, "demo")
        assert second.returncode != 0
        assert f"a demo is already running in {tmp_path} (PID {os.getpid()})" in said(second)
        assert paths.lock.read_text().strip() == str(os.getpid())  # the running one's lock is untouched
    finally:
        running.release()


def test_a_missing_debian_binary_names_its_package(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "mosquitto").symlink_to("/usr/sbin/mosquitto")  # found; influxd is not on this PATH
    result = ioc(tmp_path / "home", "demo", path=str(empty))
    assert result.returncode != 0
    assert "influxd not found: install it with `apt-get install -y influxdb`" in said(result)
    assert not (tmp_path / "home" / "demo" / "demo.pid").exists()  # refused before taking the lock's place


def test_a_port_in_use_is_skipped_and_said(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        state: dict[str, object] = {"ports": {"api": taken}}
        ports, notes = choose_ports(state)
    assert ports["api"] != taken
    assert len(set(ports.values())) == len(ports)
    assert any(f"port {taken} (api) is in use: using {ports['api']}" == note for note in notes)
    assert state["ports"] == ports  # a rerun starts from these


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("demo", "--size", "huge"), "--size: 'huge' is not one of small, province"),
        (("demo", "fault", "meteor"), "NAME: 'meteor' is not a fault; known: district-uplink"),
        (("demo", "fault", "influx-kill"), "no demo is running in"),
    ],
)
def test_bad_demo_arguments_get_a_clear_error(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = ioc(tmp_path, *args)
    assert result.returncode != 0
    assert message in said(result)
