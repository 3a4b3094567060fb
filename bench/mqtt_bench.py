"""End-to-end MQTT ingest throughput vs a bare paho subscriber, measured in the same run.

    .venv/bin/python bench/mqtt_bench.py [--messages 100000] [--publishers 2] [--devices 10]
    .venv/bin/python bench/mqtt_bench.py --mode e2e   # into a real InfluxDB, see bench/mqtt_e2e.py

Both phases use the same publishers (paho, QoS 1, SenML packs of two co-sampled records: one wide
point each) against one Mosquitto started from the generated config. Phase "raw": a bare paho client
(QoS 1, automatic acks, counting in the callback) receives the stream. Phase "ingest": the real
IngestService (manual acks after the sink, shared subscription, dead letters and last-seen on
SQLite, device check against the registry) writes to a bench sink that appends JSON lines and fsyncs
once per batch, as a durable spool would. Rates are counted at the receiver from its first to its
last message. Targets: ingest >= 50% of raw and >= 20,000 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulators.process import free_port, wait_for_tcp  # noqa: E402  (after the path is set)

INGEST_USER = "ioc-ingest"
INGEST_PASSWORD = "bench-ingest-password"


# ---------------------------------------------------------------- child roles


def role_publish(port: int, devices: list[tuple[int, str]], count: int) -> None:
    """Publish ``count`` messages spread over ``devices`` (one connection each), QoS 1, full speed."""
    from tests.support.publishers import publish_round_robin

    def message(i: int, device_id: int) -> tuple[str, str]:
        pack = [
            {"bn": f"urn:dev:ioc:{device_id}:", "n": "temp", "u": "Cel", "v": 20 + i % 10},
            {"n": "hum", "u": "%RH", "v": 60.5},
        ]
        return f"ioc/v1/d/{device_id}/senml", json.dumps(pack)

    elapsed = publish_round_robin(port, devices, count, message, client_prefix="bench-pub")
    print(json.dumps({"published": count, "seconds": elapsed}), flush=True)


def role_raw(port: int, expected: int, ready: Path, prime: bool = False) -> None:
    import paho.mqtt.client as paho

    state: dict[str, Any] = {"n": 0, "first": None, "last": None, "cpu0": 0.0}

    def on_message(_client: Any, _userdata: Any, _message: Any) -> None:
        now = time.monotonic()
        if state["first"] is None:
            state["first"] = now
            state["cpu0"] = process_cpu()
        state["n"] += 1
        state["last"] = now

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-raw", clean_session=False)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    client.on_message = on_message

    def on_connect(connected: Any, *_: Any) -> None:
        connected.subscribe("ioc/v1/d/+/senml", qos=1)
        ready.write_text("ok")

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 300
    if prime:  # subscribe in a persistent session, then leave: the broker queues what follows
        while not ready.exists():
            client.loop(timeout=0.1)
        client.disconnect()
        return
    while state["n"] < expected and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    client.disconnect()
    report(state["n"], state["first"], state["last"], state["cpu0"])


def role_ingest(port: int, expected: int, ready: Path, db: str, spool: Path, prime: bool = False) -> None:
    profile = os.environ.get("MQTT_BENCH_PROFILE")
    if profile:  # a cProfile dump of the ingest process, for finding where the time goes
        import cProfile

        cProfile.runctx(
            "asyncio.run(_ingest(port, expected, ready, db, spool))", globals(), locals(), profile
        )
    else:
        asyncio.run(_ingest(port, expected, ready, db, spool, prime))


async def _ingest(port: int, expected: int, ready: Path, db: str, spool: Path, prime: bool = False) -> None:
    from pydantic import SecretStr

    from device_registry.db import create_engine, session_factory
    from provisioning.mqtt.url import MqttUrl
    from telemetry.ingest.deadletters import DeadLetterStore
    from telemetry.ingest.directory import CredentialDirectory
    from telemetry.ingest.lastseen import LastSeenStore
    from telemetry.ingest.service import IngestConfig, IngestService
    from telemetry.points import Point

    state: dict[str, Any] = {"first": None, "last": None, "cpu0": 0.0}

    class SpoolSink:
        """Appends JSON lines and fsyncs once per write: the cost a durable spool pays."""

        def __init__(self, path: Path) -> None:
            self.handle = open(path, "ab")  # noqa: SIM115 - lives as long as the process

        async def write(self, points: Sequence[Point]) -> None:
            rows = [[p.measurement, p.tags, p.fields, p.time_ns] for p in points]
            data = json.dumps(rows, separators=(",", ":")).encode() + b"\n"
            await asyncio.to_thread(self._append, data)

        def _append(self, data: bytes) -> None:
            self.handle.write(data)
            self.handle.flush()
            os.fsync(self.handle.fileno())

    sessions = session_factory(create_engine(f"sqlite+aiosqlite:///{db}"))
    url = MqttUrl(host="127.0.0.1", port=port, username=INGEST_USER, password=SecretStr(INGEST_PASSWORD))
    service = IngestService(
        IngestConfig(url=url, client_id="bench-ingest"),
        sink=SpoolSink(spool),
        dead_letters=DeadLetterStore(sessions),
        last_seen=LastSeenStore(sessions),
        directory=CredentialDirectory(sessions),
    )
    task = asyncio.create_task(service.run())
    await service.subscribed.wait()
    await asyncio.to_thread(ready.write_text, "ok")
    if prime:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return
    deadline = time.monotonic() + 300
    while service.stats.points + service.stats.dead_letters < expected:
        if state["first"] is None and service.stats.received:
            state["first"] = time.monotonic()
            state["cpu0"] = process_cpu()
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.002)
    state["last"] = time.monotonic()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    extra = {"batches": service.stats.batches, "dead_letters": service.stats.dead_letters}
    report(service.stats.points, state["first"], state["last"], state["cpu0"], extra=extra)


def process_cpu() -> float:
    usage = psutil.Process().cpu_times()
    return float(usage.user + usage.system)


def report(
    count: int, first: float | None, last: float | None, cpu0: float, extra: dict[str, Any] | None = None
) -> None:
    """CPU is counted from the first message on, so start-up (imports, connecting) is left out."""
    rss = psutil.Process().memory_info().rss
    seconds = (last - first) if first is not None and last is not None else float("nan")
    print(
        json.dumps(
            {
                "received": count,
                "seconds": seconds,
                "cpu_s": process_cpu() - cpu0,
                "rss": rss,
                **(extra or {}),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------- orchestration


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ}
    )


def run_phase(
    name: str,
    consumer_args: list[str],
    ready: Path,
    port: int,
    groups: list[list[tuple[int, str]]],
    per: int,
    backlog: bool,
) -> dict[str, Any]:
    """Live: the consumer is subscribed while the publishers run. Backlog: the publishers fill the
    consumer's persistent session while it is away, then it drains: its own capacity, unthrottled."""
    ready.unlink(missing_ok=True)
    consumer = child(*consumer_args, *(["prime"] if backlog else []))
    deadline = time.monotonic() + 30
    while not ready.exists():
        if time.monotonic() > deadline or consumer.poll() is not None:
            raise RuntimeError(f"{name} consumer did not subscribe")
        time.sleep(0.05)
    if backlog:
        consumer.communicate(timeout=30)
    publishers = [child("_publish", str(port), json.dumps(group), str(per)) for group in groups]
    published = [json.loads(p.communicate(timeout=300)[0]) for p in publishers]
    if backlog:
        consumer = child(*consumer_args)
    out, _ = consumer.communicate(timeout=300)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["publish_rate"] = sum(p["published"] for p in published) / max(p["seconds"] for p in published)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--mode", choices=["live", "backlog", "e2e"], default="backlog")
    parser.add_argument("--sensors", type=int, default=200, help="e2e: sensors, one connection each")
    parser.add_argument("--generators", type=int, default=1, help="e2e: C generator processes")
    parser.add_argument("--outage", type=float, default=10.0, help="e2e: seconds InfluxDB stays SIGKILLed")
    parser.add_argument(
        "--stacks", default="paho,naive,ioc×1,ioc×2", help="e2e: which consumers, comma-separated"
    )
    args = parser.parse_args()
    if args.mode == "e2e":
        from bench.mqtt_e2e import main as e2e

        messages = args.messages if "--messages" in sys.argv else 200_000
        e2e(messages, args.sensors, args.generators, args.outage, args.stacks.split(","))
        return

    from ioc.migrate import upgrade
    from provisioning.mqtt.broker import BrokerFiles, ServiceUser
    from provisioning.mqtt.passwords import hash_password

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    workdir = Path(tempfile.mkdtemp(prefix="mqtt-bench-"))
    db = workdir / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    devices = asyncio.run(_onboard(db, args.devices))
    files = BrokerFiles(workdir / "mosquitto")
    hashes = {device: hash_password(password) for device, password in devices}
    files.write_auth(hashes, [ServiceUser(INGEST_USER, hash_password(INGEST_PASSWORD))])
    port = free_port()
    config = files.write_config(port, run_as_user=getpass.getuser() if os.geteuid() == 0 else None)
    log = open(workdir / "mosquitto.log", "wb")  # noqa: SIM115
    broker = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_tcp(port)
        per = args.messages // args.publishers
        total = per * args.publishers
        groups = [devices[i :: args.publishers] for i in range(args.publishers)]
        ready = workdir / "ready"
        backlog = args.mode == "backlog"
        raw = run_phase("raw", ["_raw", str(port), str(total), str(ready)], ready, port, groups, per, backlog)
        ingest = run_phase(
            "ingest",
            ["_ingest", str(port), str(total), str(ready), str(db), str(workdir / "spool.jsonl")],
            ready,
            port,
            groups,
            per,
            backlog,
        )
        broker_cpu = psutil.Process(broker.pid).cpu_times()
    finally:
        broker.terminate()
        broker.wait(10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)

    raw_rate = raw["received"] / raw["seconds"]
    ingest_rate = ingest["received"] / ingest["seconds"]
    load = os.getloadavg()[0]
    print(
        f"mode {args.mode}; {os.cpu_count()} cores, load {load:.1f}; {total} messages from "
        f"{args.publishers} publisher processes, {args.devices} sensors, SenML 2 records/message"
    )
    header = ["phase", "received", "seconds", "msg/s", "pub msg/s", "CPU s", "µs/msg", "RSS MiB"]
    print("".join(f"{h:>10}" for h in header))
    for name, r in (("raw", raw), ("ingest", ingest)):
        cells = [
            name,
            r["received"],
            f"{r['seconds']:.2f}",
            f"{r['received'] / r['seconds']:.0f}",
            f"{r['publish_rate']:.0f}",
            f"{r['cpu_s']:.2f}",
            f"{1e6 * r['cpu_s'] / max(1, r['received']):.1f}",
            f"{r['rss'] / 2**20:.1f}",
        ]
        print("".join(f"{c:>10}" for c in cells))
    print(
        f"ingest batches: {ingest.get('batches')}, dead letters: {ingest.get('dead_letters')}; "
        f"mosquitto CPU {broker_cpu.user + broker_cpu.system:.1f} s over both phases"
    )
    per_raw = raw["cpu_s"] / raw["received"]
    per_ingest = ingest["cpu_s"] / ingest["received"]
    print(
        f"CPU-bound capacity on one free core (1 / CPU per message): raw {1 / per_raw:,.0f} msg/s, "
        f"ingest {1 / per_ingest:,.0f} msg/s ({per_raw / per_ingest:.0%}); rates above depend on machine load"
    )
    ratio = ingest_rate / raw_rate
    verdict = "MET" if ratio >= 0.5 and ingest_rate >= 20_000 else "NOT MET"
    print(
        f"ingest/raw = {ratio:.0%} (target >= 50%); "
        f"ingest {ingest_rate:,.0f} msg/s (target >= 20,000): {verdict}"
    )
    if ingest["received"] != total:
        print(f"WARNING: ingest stored {ingest['received']} of {total} messages")


async def _onboard(db: Path, count: int) -> list[tuple[int, str]]:
    from device_registry.authz import Principal
    from device_registry.crypto import SecretBox, generate_key
    from device_registry.db import create_engine, session_factory
    from device_registry.models import SiteKind
    from device_registry.schemas.sites import SiteCreate
    from device_registry.services.sites import create_site
    from provisioning.mqtt.onboard import onboard_sensor

    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    admin = Principal.system("bench")
    out = []
    async with session_factory(engine)() as session, session.begin():
        await create_site(session, admin, SiteCreate(code="B1", name="Bench", kind=SiteKind.COMMUNE))
        for i in range(count):
            sensor = await onboard_sensor(session, admin, SecretBox(generate_key()), f"bench-{i}", "B1")
            out.append((sensor.device_id, sensor.password.get_secret_value()))
    await engine.dispose()
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_e2e_"):
        from bench import mqtt_e2e

        role, rest = sys.argv[1], sys.argv[2:]
        if role == "_e2e_paho":
            mqtt_e2e.role_paho(int(rest[0]), Path(rest[1]))
        elif role == "_e2e_naive":
            mqtt_e2e.role_naive(int(rest[0]), rest[1], rest[2], Path(rest[3]))
    elif len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        role, rest = sys.argv[1], sys.argv[2:]
        if role == "_publish":
            role_publish(int(rest[0]), [(int(d), str(p)) for d, p in json.loads(rest[1])], int(rest[2]))
        elif role == "_raw":
            role_raw(int(rest[0]), int(rest[1]), Path(rest[2]), prime=rest[3:] == ["prime"])
        elif role == "_ingest":
            role_ingest(
                int(rest[0]), int(rest[1]), Path(rest[2]), rest[3], Path(rest[4]), prime=rest[5:] == ["prime"]
            )
    else:
        main()
