"""SNMP polling figures, each next to a baseline measured in the same run against the same agents.

1. Throughput: the collector (one multi-column GETBULK walk + sysUpTime, rates, points) against a
   raw pysnmp v1arch GET loop asking the very same OIDs by name (no walk, no points). Target >= 80%.
   Measured twice: against net-snmp's snmpd (a fast C agent: the poller is the bottleneck) and against
   snmpsim (a Python agent: the agent is the bottleneck).
2. A cycle over N devices of which 10% never answer, against timeout x tries (and the serial cost).
3. A fleet of many simulated agents (snmpsim: one community per agent) polled once: cycle time and
   the poller's CPU, expressed as a share of a 60 s interval.

Run: ``.venv/bin/python bench/snmp_bench.py [--agents 1000] [--throughput-agents 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.proto.rfc1902 import Null

from device_registry.credentials import SnmpCommunityCredential
from device_registry.targets import DeviceTarget
from provisioning.snmp.client import SnmpClient, SnmpEndpoint
from simulators.snmp_agents import answers
from telemetry.collectors.snmp import COLUMNS, SYS_UPTIME, SnmpCollector
from telemetry.cycle import CycleRunner
from telemetry.points import Point
from tests.support.snmpd import snmpd_argv

INTERFACES = 2
CONCURRENCY = 64


def recording() -> str:
    """A small switch: system group and INTERFACES rows of every column the collector reads."""
    lines = [
        "1.3.6.1.2.1.1.1.0|4|Bench switch",
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10",
        "1.3.6.1.2.1.1.3.0|67|123456",
        "1.3.6.1.2.1.1.5.0|4|bench",
    ]
    values = {
        "descr": "4|eth{i}",
        "speed": "66|1000000000",
        "oper": "2|1",
        "in_octets": "65|{n}",
        "in_discards": "65|0",
        "in_errors": "65|0",
        "out_octets": "65|{n}",
        "out_discards": "65|0",
        "out_errors": "65|0",
        "name": "4|eth{i}",
        "hc_in_octets": "70|{n}",
        "hc_out_octets": "70|{n}",
        "high_speed": "66|1000",
    }
    rows = []
    for name, oid in COLUMNS.items():
        for i in range(1, INTERFACES + 1):
            rows.append(((*oid, i), values[name].format(i=i, n=1000 * i)))
    rows.sort()
    lines += [f"{'.'.join(map(str, oid))}|{value}" for oid, value in rows]
    return "\n".join(lines) + "\n"


def wanted_oids(if_indexes: Sequence[int]) -> list[tuple[int, ...]]:
    return [SYS_UPTIME] + [(*oid, i) for oid in COLUMNS.values() for i in if_indexes]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CountingSink:
    def __init__(self) -> None:
        self.points = 0

    async def write(self, points: Sequence[Point]) -> None:
        self.points += len(points)


def start_snmpsim(folder: Path, agents: int) -> tuple[subprocess.Popen[bytes], int]:
    data = folder / "data"
    data.mkdir()
    text = recording()
    for n in range(agents):
        (data / f"agent{n:04d}.snmprec").write_text(text)
    port = free_udp_port()
    responder = Path(sys.executable).parent / "snmpsim-command-responder"
    process = subprocess.Popen(
        [
            str(responder),
            f"--data-dir={data}",
            f"--cache-dir={folder / 'cache'}",
            f"--agent-udpv4-endpoint=127.0.0.1:{port}",
            "--log-level=error",
        ],
        stdout=open(folder / "snmpsim.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
    )
    wait_answer(process, port, f"agent{agents - 1:04d}", folder / "snmpsim.log")
    return process, port


def targets(port: int, communities: Sequence[str], dead_ports: Sequence[int] = ()) -> list[DeviceTarget]:
    out = [
        DeviceTarget(n + 1, f"dev{n:04d}", "switch", "127.0.0.1", port, ("VN-TB", "TB-01"), ("snmp",),
                     SnmpCommunityCredential(community=SecretStr(name)))
        for n, name in enumerate(communities)
    ]  # fmt: skip
    for k, dead in enumerate(dead_ports):
        out.append(
            DeviceTarget(100_000 + k, f"dead{k}", "switch", "127.0.0.1", dead, (), ("snmp",),
                         SnmpCommunityCredential(community=SecretStr("public")))
        )  # fmt: skip
    return out


def start_snmpd(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_udp_port()
    conf = folder / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\ndontLogTCPWrappersConnects yes\n")
    process = subprocess.Popen(
        snmpd_argv("snmpd", conf, f"udp:127.0.0.1:{port}"),
        stdout=open(folder / "snmpd.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(folder / "snmpd-persist")},
    )
    wait_answer(process, port, "public", folder / "snmpd.log")
    return process, port


def wait_answer(process: subprocess.Popen[bytes], port: int, community: str, log: Path) -> None:
    """snmpsim may index its recordings for minutes before it answers; show its log if it dies."""
    try:
        answers(port, community, timeout=600, alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError) as error:
        process.kill()
        raise RuntimeError(f"{error}\n{log.read_text()}") from None


async def interface_indexes(port: int, community: str) -> list[int]:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint(
            "127.0.0.1", SnmpCommunityCredential(community=SecretStr(community)), port=port
        )
        walk = await client.walk_table(endpoint, [COLUMNS["oper"]])
    return [index[0] for index in walk.indexes()]


async def throughput(
    port: int, communities: Sequence[str], if_indexes: Sequence[int], rounds: int
) -> dict[str, tuple[float, float, int]]:
    """Raw GET loop and collector, alternating round by round so machine noise hits both alike.

    Raw baseline: plain v1arch GETs of exactly the OIDs the collector ends up with, same concurrency,
    no walk, no rates, no points. Returns {name: (wall s, cpu s, OIDs)}.
    """
    dispatcher = v1.SnmpDispatcher()
    wanted = wanted_oids(if_indexes)
    oids = [(".".join(map(str, o)), Null()) for o in wanted]
    transport = await v1.UdpTransportTarget.create(("127.0.0.1", port), timeout=2, retries=1)
    slots = asyncio.Semaphore(CONCURRENCY)
    totals = {"raw": [0.0, 0.0, 0], "collector": [0.0, 0.0, 0]}

    async def raw_one(community: str) -> int:
        async with slots:
            error, status, _, var_binds = await v1.get_cmd(
                dispatcher, v1.CommunityData(community), transport, *oids
            )
            return 0 if error or status else len(var_binds)

    async with SnmpClient() as client:
        runner = CycleRunner(
            SnmpCollector(client, timeout=2, retries=1), CountingSink(), concurrency=CONCURRENCY
        )
        fleet = targets(port, communities)
        await runner.run_once(fleet)  # warm-up: learns each table's size, primes counters
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            got = sum(await asyncio.gather(*(raw_one(c) for c in communities)))
            totals["raw"][0] += time.perf_counter() - wall
            totals["raw"][1] += time.process_time() - cpu
            totals["raw"][2] += got
            wall, cpu = time.perf_counter(), time.process_time()
            ok = (await runner.run_once(fleet)).ok
            totals["collector"][0] += time.perf_counter() - wall
            totals["collector"][1] += time.process_time() - cpu
            totals["collector"][2] += ok * len(wanted)
    dispatcher.close()
    return {k: (float(v[0]), float(v[1]), int(v[2])) for k, v in totals.items()}


async def dead_cycle(
    port: int, agents: int, per_try: float, retries: int
) -> tuple[list[float], list[int], list[int]]:
    """Two cycles: the first knows nothing, the second has the dead devices in the suspect lane;
    then, as the baseline, a cycle of the live devices alone.

    One snmpd stands in for every live device, so the live lane is kept to what one agent answers
    well within the timeout (16); real devices each have their own CPU.
    """
    dead = [free_udp_port() for _ in range(max(1, agents // 10))]
    fleet = targets(port, ["public"] * (agents - len(dead)), dead)
    durations, oks, failed = [], [], []
    async with SnmpClient() as client:
        runner = CycleRunner(
            SnmpCollector(client, timeout=per_try, retries=retries),
            CountingSink(),
            concurrency=16,
            device_timeout=per_try * (retries + 1) * 3,
        )
        live_only = [t for t in fleet if t.port == port]
        for cycle in (fleet, fleet, live_only):
            summary = await runner.run_once(cycle)
            durations.append(summary.duration_s)
            oks.append(summary.ok)
            failed.append(summary.failed)
    return durations, oks, failed


async def fleet_cycle(port: int, agents: int) -> tuple[float, float, int, int]:
    async with SnmpClient() as client:
        runner = CycleRunner(
            SnmpCollector(client, timeout=5, retries=1),
            CountingSink(),
            concurrency=CONCURRENCY,
            device_timeout=15,
        )
        fleet = targets(port, [f"agent{n:04d}" for n in range(agents)])
        await runner.run_once(fleet)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = await runner.run_once(fleet)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, summary.ok, summary.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="fleet size for the CPU-share figure")
    parser.add_argument("--throughput-agents", type=int, default=200, help="devices per throughput round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--retries", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("snmpget"):
        sys.exit("snmpget not found: apt-get install -y snmp")
    logging.getLogger("telemetry.cycle").setLevel(logging.ERROR)  # per-device DOWN lines are not figures
    folder = Path(tempfile.mkdtemp(prefix="snmp-bench-"))
    started = time.perf_counter()
    snmpd, snmpd_port = start_snmpd(folder)
    process, port = start_snmpsim(folder, args.agents)
    print(
        f"agents ready in {time.perf_counter() - started:.1f}s: snmpd, snmpsim with {args.agents} recordings"
    )
    try:
        n, rounds = args.throughput_agents, args.rounds
        for label, agent_port, communities in (
            ("snmpd", snmpd_port, ["public"] * n),
            ("snmpsim", port, [f"agent{k % args.agents:04d}" for k in range(n)]),
        ):
            indexes = asyncio.run(interface_indexes(agent_port, communities[0]))
            per_device = len(wanted_oids(indexes))
            figures = asyncio.run(throughput(agent_port, communities, indexes, rounds))
            (raw_wall, raw_cpu, raw_oids), (col_wall, col_cpu, col_oids) = (
                figures["raw"],
                figures["collector"],
            )
            raw_rate, col_rate = raw_oids / raw_wall, col_oids / col_wall
            raw_ms, col_ms = raw_cpu * 1000 / (n * rounds), col_cpu * 1000 / (n * rounds)
            print(
                f"\n[throughput vs {label}] {n} devices x {rounds} rounds, {per_device} OIDs/device,", end=" "
            )
            print(f"concurrency {CONCURRENCY}")
            print(f"  raw pysnmp GET loop : {raw_rate:8.0f} OIDs/s  ({raw_ms:.1f} ms CPU/device)")
            print(f"  SnmpCollector       : {col_rate:8.0f} OIDs/s  ({col_ms:.1f} ms CPU/device)")
            print(f"  collector / raw     : {100 * col_rate / raw_rate:6.1f} %  (target >= 80 %)")

        worst = args.timeout * (args.retries + 1)
        d_walls, d_oks, d_failed = asyncio.run(dead_cycle(snmpd_port, n, args.timeout, args.retries))
        print(
            f"\n[10% dead] {d_oks[0] + d_failed[0]} devices on snmpd, {max(1, n // 10)} dead,",
            end=" ",
        )
        print(f"timeout {args.timeout}s x {args.retries + 1} tries")
        print(f"  first cycle         : {d_walls[0]:6.2f} s   ok {d_oks[0]}, failed {d_failed[0]}")
        print(f"  next cycle          : {d_walls[1]:6.2f} s   ok {d_oks[1]}, failed {d_failed[1]}", end=" ")
        print("(dead ones now in the suspect lane)")
        print(f"  live devices alone  : {d_walls[2]:6.2f} s   (baseline: same devices without the dead)")
        print(f"  timeout x tries     : {worst:6.2f} s   (serial would be {max(1, n // 10) * worst:.0f} s)")

        f_wall, f_cpu, f_ok, f_failed = asyncio.run(fleet_cycle(port, args.agents))
        share = 100 * f_cpu / 60
        per_agent = len(wanted_oids(range(1, INTERFACES + 1)))
        print(f"\n[fleet] {args.agents} snmpsim agents x {per_agent} OIDs, one cycle (steady state)")
        print(f"  cycle time          : {f_wall:6.2f} s   ok {f_ok}, failed {f_failed}")
        print(f"  poller CPU          : {f_cpu:6.2f} s   = {share:.1f} % of one core per 60 s interval")
    finally:
        for child in (process, snmpd):
            child.terminate()
            child.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
