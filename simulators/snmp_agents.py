"""SNMP agents for the demo fleet and the tests: snmpsim replaying real vendor walks.

The walks come from the ``snmpsim-data`` package (real devices). :func:`device_recording` keeps the
parts a poller reads (system group, a few rows of ifTable/ifXTable) and makes the traffic live:
octet and packet counters and sysUpTime become snmpsim ``numeric`` variations, so they advance with
time and 32-bit counters wrap as a real agent's do. One snmpsim process serves many agents, one per
loopback address (``127.x.y.z:port``), each with its own community (snmpsim picks the recording by
community: ``data/<community>.snmprec``), as fleets with per-device communities are run.
"""

from __future__ import annotations

import bz2
import hashlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from provisioning.snmp import mib
from simulators.process import ManagedProcess, MissingBinary, find_binary

_SYS_UPTIME = mib.dotted(mib.SYS_UPTIME)
_SYS_NAME = mib.dotted(mib.SYS_NAME)
_IF_TABLE = mib.dotted(mib.IF_ENTRY) + "."
_IF_X_TABLE = mib.dotted(mib.IFX_ENTRY) + "."
_IF_NUMBER = mib.dotted(mib.IF_NUMBER)
_KEEP = (mib.dotted(mib.SYSTEM) + ".", mib.dotted(mib.IF_NUMBER[:-2]) + ".", _IF_X_TABLE)
# column -> bytes-per-second share of the interface's rate (packets: ~800-byte average)
_OCTETS32 = {"10": 1.0, "16": 0.6}
_PACKETS32 = {"11": 1 / 800, "17": 0.6 / 800}
_OCTETS64 = {"6": 1.0, "10": 0.6}
_PACKETS64 = {"7": 1 / 800, "11": 0.6 / 800}
WRAP_COLUMN = "1.3.6.1.2.1.2.2.1.10"
"""ifInOctets: on the wrap agent it is a ``writecache`` value the demo drives (and wraps) by SNMP SET."""


def data_root() -> Path:
    """Where ``snmpsim-data`` keeps its walks; raises naming the package when it is missing."""
    try:
        import snmpsim_data
    except ImportError as error:
        raise MissingBinary("snmpsim-data walks", "snmpsim-data", python=True) from error
    return Path(snmpsim_data.__file__).parent / "data"


def read_walk(path: Path) -> list[str]:
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return [line.rstrip("\n") for line in handle if line.strip() and not line.startswith("#")]


def _rate(seed: str) -> int:
    """A stable, device-specific traffic rate between ~50 kB/s and ~5 MB/s."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    return 50_000 + digest % 5_000_000


def device_recording(
    walk: Sequence[str], sys_name: str, *, max_interfaces: int = 8, wrap_agent: bool = False
) -> str:
    """The recording of one simulated device, built from a real walk (see the module docstring).

    ``wrap_agent``: no ifXTable (an old switch with 32-bit counters only) and the first interface's
    ifInOctets writable, so the demo can push it across 2^32 on demand.
    """
    rows: list[tuple[str, str, str]] = []
    for line in walk:
        oid, _, rest = line.partition("|")
        tag, _, value = rest.partition("|")
        if not oid.startswith(_KEEP) or not tag:
            continue
        rows.append((oid, tag, value))
    indexes: list[str] = []
    for oid, _tag, _value in rows:
        if oid.startswith(_IF_TABLE + "1."):
            index = oid[len(_IF_TABLE) + 2 :]
            if index.isdigit() and index not in indexes:
                indexes.append(index)
    keep = set(indexes[:max_interfaces])
    out: list[str] = []
    first = indexes[0] if indexes else None
    for oid, tag, value in rows:
        table = (
            _IF_TABLE if oid.startswith(_IF_TABLE) else _IF_X_TABLE if oid.startswith(_IF_X_TABLE) else None
        )
        if table is not None:
            column, _, index = oid[len(table) :].partition(".")
            if index not in keep or (wrap_agent and table == _IF_X_TABLE):
                continue
            rate = _rate(f"{sys_name}/{index}")
            shares = {**_OCTETS32, **_PACKETS32} if table == _IF_TABLE else {**_OCTETS64, **_PACKETS64}
            if wrap_agent and table == _IF_TABLE and column == "10" and index == first:
                out.append(f"{oid}|65:writecache|value={_int(value)}")
                continue
            if column in shares and tag.split(":")[0] in ("65", "70"):
                base_tag = tag.split(":")[0]
                wrap = ",wrap=1" if base_tag == "65" else ""
                per_s = max(1, int(rate * shares[column]))
                out.append(f"{oid}|{base_tag}:numeric|offset={_int(value)},rate={per_s}{wrap}")
                continue
            if column == "8":  # ifOperStatus: the demo's links are up
                out.append(f"{oid}|2|1")
                continue
        if oid == _IF_NUMBER:
            out.append(f"{oid}|2|{len(keep)}")
            continue
        if oid == _SYS_NAME:
            out.append(f"{oid}|4|{sys_name}")
            continue
        if oid == _SYS_UPTIME:
            out.append(f"{oid}|67:numeric|offset={_int(value)},rate=100")
            continue
        out.append(f"{oid}|{tag}|{value}")
    return "\n".join(out) + "\n"


def _int(value: str) -> int:
    match = re.match(r"\d+", value.split("=")[-1])
    return int(match.group()) if match else 0


@dataclass(frozen=True)
class AgentSpec:
    """One simulated agent: where it answers, its community and what it replays."""

    community: str
    address: str
    port: int
    recording: str


def write_data_dir(folder: Path, agents: Iterable[AgentSpec]) -> list[str]:
    """Lay out one snmpsim data folder for ``agents``; returns the endpoint options."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    endpoints = []
    for agent in agents:
        target = data / f"{agent.community}.snmprec"
        if not target.exists() or target.read_text() != agent.recording:
            target.write_text(agent.recording)
        endpoints.append(f"--agent-udpv4-endpoint={agent.address}:{agent.port}")
    return endpoints


def responder_binary() -> str:
    """snmpsim's responder, installed beside the running interpreter (PyPI package ``snmpsim``)."""
    candidate = Path(sys.executable).parent / "snmpsim-command-responder"
    if candidate.exists():
        return str(candidate)
    raise MissingBinary("snmpsim-command-responder", "snmpsim", python=True)


def snmpsim_process(folder: Path, agents: Sequence[AgentSpec]) -> ManagedProcess:
    """An unstarted snmpsim serving ``agents`` (ready when the first one answers)."""
    endpoints = write_data_dir(folder, agents)
    snmpget = find_binary("snmpget", "snmp")
    first = agents[0]
    return ManagedProcess(
        [
            responder_binary(),
            f"--data-dir={folder / 'data'}",
            f"--cache-dir={folder / 'cache'}",
            *endpoints,
            "--log-level=error",
        ],
        log_path=folder / "snmpsim.log",
        env={"SNMPSIM_ALLOW_ROOT": "true"},
        die_with_parent=True,
        ready=lambda: answers(first.port, first.community, snmpget, host=first.address, timeout=60),
    )


def answers(
    port: int,
    community_name: str,
    snmpget: str = "snmpget",
    *,
    host: str = "127.0.0.1",
    timeout: float = 20.0,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Wait until an agent answers a v2c GET of sysName; ``alive`` lets a dead agent fail at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        argv = [snmpget, "-v2c", "-c", community_name, "-t", "0.3", "-r", "0", f"{host}:{port}",
                "1.3.6.1.2.1.1.5.0"]  # fmt: skip
        if subprocess.run(argv, capture_output=True, check=False).returncode == 0:
            return
        if alive is not None and not alive():
            raise RuntimeError(f"the agent on udp {host}:{port} exited before answering")
        time.sleep(0.1)
    raise TimeoutError(f"no SNMP answer on udp {host}:{port}")


def udp_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


async def set_counter32(address: str, port: int, community: str, oid: str, value: int) -> None:
    """SNMP SET of a Counter32 kept by a ``writecache`` record (the wrap agent's ifInOctets)."""
    from pysnmp.hlapi.v1arch import asyncio as v1
    from pysnmp.proto.rfc1902 import Counter32

    dispatcher = v1.SnmpDispatcher()
    try:
        target = await v1.UdpTransportTarget.create((address, port), timeout=1, retries=1)
        error, status, _, _ = await v1.set_cmd(
            dispatcher, v1.CommunityData(community), target, (oid, Counter32(value % 2**32))
        )
        if error or status:
            raise RuntimeError(f"SET {oid} on {address}:{port} failed: {error or status}")
    finally:
        dispatcher.close()
