"""``snmpsim`` with shipped recordings for the SNMP tests (net-snmp's ``snmpd`` is in tests/conftest.py).

It runs once per test session on a free loopback UDP port from a temp folder and is stopped at the
end. A missing binary or an agent that does not answer fails loudly.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.process import ManagedProcess, free_port, require_binary
from tests.support.snmpd import Agent, answers

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
SHIPPED = ("linux-full-walk", "winxp-full-walk", "eaton-9PX-partial-walk", "solaris-system", "linksys-system")


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpsim serving the recordings shipped with snmpsim plus ours; community = recording name."""
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    if not responder.exists():
        pytest.fail("snmpsim not installed: run `bash scripts/bootstrap.sh` (test extra)", pytrace=False)
    snmpget = require_binary("snmpget", "snmp")
    import snmpsim as snmpsim_package

    shipped = Path(snmpsim_package.__file__).parent / "data" / "recorded"
    folder = tmp_path_factory.mktemp("snmpsim")
    data = folder / "data"
    data.mkdir()
    for name in SHIPPED:
        shutil.copy(shipped / f"{name}.snmprec", data)
    for recording in RECORDINGS.glob("*.snmprec"):
        shutil.copy(recording, data)
    port = free_port(socket.SOCK_DGRAM)
    process = ManagedProcess(
        [
            str(responder),
            f"--data-dir={data}",
            f"--cache-dir={folder / 'cache'}",
            f"--agent-udpv4-endpoint=127.0.0.1:{port}",
            "--log-level=error",
        ],
        log_path=folder / "snmpsim.log",
        env={"SNMPSIM_ALLOW_ROOT": "true"},
        ready=lambda: answers(port, "linksys-system", snmpget),
    ).start()
    yield Agent(port, process)
    process.stop()
