"""Real SNMP agents for the SNMP tests: net-snmp ``snmpd`` and ``snmpsim`` with shipped recordings.

Both run once per test session on free loopback UDP ports from temp folders and are stopped at the
end. A missing binary or an agent that does not answer fails loudly.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from tests.support.process import ManagedProcess, free_port, require_binary
from tests.support.snmpd import snmpd_argv

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
SHIPPED = ("linux-full-walk", "winxp-full-walk", "eaton-9PX-partial-walk", "solaris-system", "linksys-system")

V3_USER = "opsv3"
V3_AUTH = "auth-secret-123"
V3_PRIV = "priv-secret-456"


@dataclass(frozen=True)
class Agent:
    port: int
    process: ManagedProcess


def community(value: str, version: str = "2c") -> SnmpCommunityCredential:
    return SnmpCommunityCredential(community=SecretStr(value), version=version)


def v3_credential(auth_key: str = V3_AUTH, priv_key: str = V3_PRIV, user: str = V3_USER) -> SnmpV3Credential:
    return SnmpV3Credential(
        username=user,
        auth_protocol="SHA",
        auth_key=SecretStr(auth_key),
        priv_protocol="AES",
        priv_key=SecretStr(priv_key),
    )


def _answers(port: int, community_name: str, snmpget: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = subprocess.run(
            [
                snmpget,
                "-v2c",
                "-c",
                community_name,
                "-t",
                "0.3",
                "-r",
                "0",
                f"127.0.0.1:{port}",
                "1.3.6.1.2.1.1.5.0",
            ],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"no SNMP answer on udp 127.0.0.1:{port}")


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """net-snmp agent: v2c community ``public`` and a v3 authPriv user (SHA/AES) created by its config."""
    binary = require_binary("snmpd", "snmpd", search=["/usr/sbin"])
    snmpget = require_binary("snmpget", "snmp")
    folder = tmp_path_factory.mktemp("snmpd")
    port = free_port(socket.SOCK_DGRAM)
    conf = folder / "snmpd.conf"
    conf.write_text(
        "rocommunity public 127.0.0.1\n"
        f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\n'
        f"rouser {V3_USER} priv\n"
        f'createUser sha2user SHA-256 "{V3_AUTH}" AES "{V3_PRIV}"\n'
        "rouser sha2user priv\n"
        f'createUser authonly SHA-512 "{V3_AUTH}"\n'
        "rouser authonly auth\n"
        "createUser noauth\n"
        "rouser noauth noauth\n"
        "sysName snmpd-under-test\nsysLocation Test rack\nsysContact noc@example.org\n"
        "dontLogTCPWrappersConnects yes\n"
    )
    process = ManagedProcess(
        snmpd_argv(binary, conf, f"udp:127.0.0.1:{port}"),
        log_path=folder / "snmpd.log",
        env={"SNMP_PERSISTENT_DIR": str(folder / "persist"), "MIBS": ""},
        ready=lambda: _answers(port, "public", snmpget),
    ).start()
    yield Agent(port, process)
    process.stop()


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
        ready=lambda: _answers(port, "linksys-system", snmpget),
    ).start()
    yield Agent(port, process)
    process.stop()
