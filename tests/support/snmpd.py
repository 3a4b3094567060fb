"""How net-snmp's ``snmpd`` runs under the tests and benches: in the foreground, with only our config
(``-C``), no MIB loading (``-M /dev/null``), no SMUX, logging to stdout, listening where we say.

Also the session's shared agent (:func:`start_snmpd`, the ``snmpd`` fixture of ``tests/support/fixtures.py``):
v2c community ``public`` and v3 users of every security level; and snmpsim serving real device walks
(:func:`start_snmpsim`, the ``snmpsim`` fixture), community = recording name.
"""

from __future__ import annotations

import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from simulators.snmp_agents import answers
from tests.support.process import ManagedProcess, free_port, require_binary

RECORDINGS = Path(__file__).parents[1] / "snmp" / "recordings"
"""Our own walks, next to the SNMP tests that read them."""
SHIPPED = ("linux-full-walk", "winxp-full-walk", "eaton-9PX-partial-walk", "solaris-system", "linksys-system")
"""Walks shipped with snmpsim that the tests use."""

V3_USER = "opsv3"
V3_AUTH = "auth-secret-123"
V3_PRIV = "priv-secret-456"


@dataclass(frozen=True)
class Agent:
    port: int
    process: ManagedProcess
    tcp_port: int | None = None
    """Also listening on TCP (``start_snmpd(..., tcp=True)``): a TCP connect check reaches the agent."""


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


def snmpd_argv(binary: str, conf: Path, listen: str) -> list[str]:
    """``listen`` is net-snmp's agent address list, e.g. ``udp:127.0.0.1:1161,tcp:127.0.0.1:1161``."""
    return [binary, "-f", "-C", "-c", str(conf), "-I", "-smux", "-M", "/dev/null", "-Lo", listen]


def start_snmpd(folder: Path, *, tcp: bool = False, sys_name: str = "snmpd-under-test") -> Agent:
    """net-snmp agent: v2c community ``public`` and a v3 authPriv user (SHA/AES) created by its config.

    Its persistent data lives in a folder of its own: snmpd rewrites ``$SNMP_PERSISTENT_DIR/snmpd.conf``
    on shutdown, which must not be our config or a restarted agent loses its community.
    """
    binary = require_binary("snmpd", "snmpd", search=["/usr/sbin"])
    snmpget = require_binary("snmpget", "snmp")
    port = free_port(socket.SOCK_DGRAM)
    tcp_port = free_port() if tcp else None
    listen = f"udp:127.0.0.1:{port}" + (f",tcp:127.0.0.1:{tcp_port}" if tcp_port else "")
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
        f"sysName {sys_name}\nsysLocation Test rack\nsysContact noc@example.org\n"
        "dontLogTCPWrappersConnects yes\n"
    )
    return Agent(
        port,
        ManagedProcess(
            snmpd_argv(binary, conf, listen),
            log_path=folder / "snmpd.log",
            env={"SNMP_PERSISTENT_DIR": str(folder / "persist"), "MIBS": ""},
            ready=lambda: answers(port, "public", snmpget),
        ).start(),
        tcp_port,
    )


def start_snmpsim(folder: Path) -> Agent:
    """snmpsim serving the recordings shipped with snmpsim plus ours; community = recording name."""
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    if not responder.exists():
        pytest.fail("snmpsim not installed: run `bash scripts/bootstrap.sh` (test extra)", pytrace=False)
    snmpget = require_binary("snmpget", "snmp")
    import snmpsim as snmpsim_package

    shipped = Path(snmpsim_package.__file__).parent / "data" / "recorded"
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
    return Agent(port, process)
