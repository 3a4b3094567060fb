"""End to end into a real InfluxDB: platform ingest vs a naive ingester vs bare paho, one run, one broker.

    .venv/bin/python bench/mqtt_bench.py --mode e2e [--messages 200000] [--sensors 200] [--outage 10]

Every stack gets the same burst: ``--sensors`` sensors, each on its own connection with its own
credentials through the platform's generated Mosquitto config and ACLs, publishing in the platform's
JSON format (``{"ts": …, "fields": {"temperature": t, "humidity": h}}``) at QoS 1 from
``--generators`` processes of bench/mqtt_gen.c (libmosquitto, one thread polling all its connections,
built at run time; paho generators topped out at 4-8k msg/s, below the ingest they should load).
Each stack runs on a fresh broker and a fresh database:

- ``paho``: a bare paho subscriber counting messages (no storage): the ceiling.
- ``naive``: paho with automatic acks, ``json.loads``, line protocol by f-string, a blocking POST to
  InfluxDB every 5000 messages, dropping a batch the server does not take: memory only.
- ``ioc×1``, ``ioc×2``: ``ioc serve --only ingest [--workers 2]`` into the same InfluxDB.

Throughput runs measure msg/s (sent / time from the first publish to the last point stored, or
received for paho), CPU µs per message (user+system of the consumer's process tree over that time) and
peak RSS (the tree's summed RSS, sampled every 50 ms). Outage runs SIGKILL InfluxDB once a quarter of
the burst is stored, restart it after ``--outage`` seconds, and report stored/sent, the recovery time
(from ``/ping`` answering to the next stored point) and the writer's failed batch attempts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
INGEST_USER = "ioc-ingest"
INGEST_PASSWORD = "bench-ingest-password"
WINDOW = 100
"""Un-acknowledged messages per generator connection."""
NODE_RED = {"msg_s": 19_380, "cpu_us": 44.2, "rss_mb": 481}
"""Node-RED 4.1's batch flow in the same set-up (issue 18), for the printed comparison."""


# ---------------------------------------------------------------- child roles


def role_paho(port: int, progress: Path) -> None:
    import paho.mqtt.client as paho

    state = {"n": 0}

    def on_message(_client: Any, _userdata: Any, _message: Any) -> None:
        state["n"] += 1

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-paho", clean_session=False)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("ioc/v1/d/+/telemetry", qos=1)
    client.connect("127.0.0.1", port)
    last = 0.0
    while True:
        client.loop(timeout=0.05)
        if time.monotonic() - last > 0.05:  # loop() returns after every packet: report 20 times a second
            progress.write_text(str(state["n"]))
            last = time.monotonic()


def role_naive(port: int, influx_url: str, database: str, progress: Path) -> None:
    """What a quick script does: decode, format, POST every 5000; a failed POST is dropped."""
    import paho.mqtt.client as paho

    state: dict[str, Any] = {"n": 0, "lines": []}
    http = httpx.Client(timeout=5.0)
    url = f"{influx_url}/write"

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        state["n"] += 1
        device = message.topic.split("/")[3]
        data = json.loads(message.payload)
        values = ",".join(f"{key}={float(value)}" for key, value in data["fields"].items())
        state["lines"].append(f"sensor,device_id={device} {values} {int(data['ts'] * 1e9)}")
        if len(state["lines"]) >= 5000:
            body, state["lines"] = "\n".join(state["lines"]), []
            with contextlib.suppress(httpx.HTTPError):  # memory only: a refused batch is gone
                http.post(url, params={"db": database, "precision": "n"}, content=body)

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-naive", clean_session=False)
    client.username_pw_set(INGEST_USER, INGEST_PASSWORD)
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("ioc/v1/d/+/telemetry", qos=1)
    client.connect("127.0.0.1", port)
    last = time.monotonic()
    while True:
        client.loop(timeout=0.05)
        if time.monotonic() - last > 1.0:  # flush a partial batch once a second
            if state["lines"]:
                body, state["lines"] = "\n".join(state["lines"]), []
                with contextlib.suppress(httpx.HTTPError):
                    http.post(url, params={"db": database, "precision": "n"}, content=body)
            last = time.monotonic()


# ---------------------------------------------------------------- measuring


class TreeSampler:
    """Peak summed RSS of a process and its children, sampled in a thread; CPU read on demand."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self._cpu_dead = 0.0
        self._seen: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for process in self._tree():
                try:
                    rss += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            time.sleep(0.05)

    def cpu(self) -> float:
        total = 0.0
        for process in self._tree():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    stack: str
    sent: int = 0
    stored: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0
    peak_rss: int = 0
    idle_rss: int = 0
    publish_rate: float = 0.0
    recovery_s: float | None = None
    failed_attempts: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.stored or self.sent) / self.seconds if self.seconds else float("nan")

    @property
    def cpu_us(self) -> float:
        return 1e6 * self.cpu_s / max(1, self.stored or self.sent)


@dataclass
class Rig:
    workdir: Path
    devices: list[tuple[int, str]]
    db: Path
    secret_key: str
    generators: int
    generator: Path | None = None
    """The compiled bench/mqtt_gen.c."""
    influx: Any = None
    broker: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start_broker(self) -> None:
        from bench.mqtt_bench import free_port, wait_for_tcp
        from provisioning.mqtt.broker import BrokerFiles, ServiceUser
        from provisioning.mqtt.passwords import hash_password

        folder = self.workdir / "mosquitto"
        shutil.rmtree(folder, ignore_errors=True)  # fresh persistence: no sessions from the last stack
        files = BrokerFiles(folder)
        hashes = {device: hash_password(password) for device, password in self.devices}
        files.write_auth(hashes, [ServiceUser(INGEST_USER, hash_password(INGEST_PASSWORD))])
        self.port = free_port()
        import getpass

        config = files.write_config(self.port, run_as_user=getpass.getuser() if os.geteuid() == 0 else None)
        log = open(self.workdir / "mosquitto.log", "wb")  # noqa: SIM115 - handed to the child
        self.broker = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_tcp(self.port)

    def stop_broker(self) -> None:
        if self.broker is not None:
            self.broker.terminate()
            self.broker.wait(10)
            self.broker = None

    def broker_log(self) -> str:
        return (self.workdir / "mosquitto.log").read_text(errors="replace")

    def reset_database(self) -> None:
        from tests.support.tsdb import INFLUX_DB

        self.influx.query(f'DROP DATABASE "{INFLUX_DB}"', db="")
        self.influx.create_database()

    def stored(self) -> int:
        return int(self.influx.count("sensor", "temperature"))

    def connect_generators(self, messages: int) -> list[subprocess.Popen[str]]:
        """Start the C generators and return once every one of them has connected all its sensors;
        :func:`release` then starts them publishing, so connecting is not in the figures."""
        assert self.generator is not None
        per = messages // self.generators
        generators = []
        for index in range(self.generators):
            sensors = self.workdir / f"sensors-{index}"
            group = self.devices[index :: self.generators]
            sensors.write_text("".join(f"{device} {password}\n" for device, password in group))
            sensors.chmod(0o600)
            generators.append(
                subprocess.Popen(
                    [str(self.generator), str(self.port), str(per), str(WINDOW), str(sensors)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for generator in generators:
            assert generator.stdout is not None
            line = generator.stdout.readline()
            if not line:
                raise RuntimeError(f"generator exited with {generator.wait()} before connecting")
            json.loads(line)
        return generators


def release(generators: list[subprocess.Popen[str]]) -> None:
    for generator in generators:
        assert generator.stdin is not None
        generator.stdin.write("go\n")
        generator.stdin.flush()


def build_generator(folder: Path) -> Path:
    """Compile bench/mqtt_gen.c against libmosquitto into ``folder`` (a missing compiler or library
    fails here, naming the Debian packages: scripts/apt.d/bench.txt)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("no C compiler: apt-get install gcc libmosquitto-dev")
    binary = folder / "mqtt_gen"
    build = subprocess.run(
        [compiler, "-O2", "-o", str(binary), str(ROOT / "bench" / "mqtt_gen.c"), "-lmosquitto"],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        raise SystemExit(f"building mqtt_gen failed (apt-get install gcc libmosquitto-dev):\n{build.stderr}")
    return binary


def _child(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "mqtt_bench.py"), *args],
        cwd=ROOT,
        env=env or {**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _ioc(rig: Rig, workers: int) -> subprocess.Popen[bytes]:
    from tests.support.tsdb import INFLUX_DB

    home = rig.workdir / f"home-ioc{workers}"
    shutil.rmtree(home, ignore_errors=True)
    env = {
        **os.environ,
        "IOC_HOME": str(home),
        "IOC_DATABASE_URL": f"sqlite+aiosqlite:///{rig.db}",
        "IOC_SECRET_KEY": rig.secret_key,
        "IOC_MQTT_URL": f"mqtt://{INGEST_USER}:{INGEST_PASSWORD}@127.0.0.1:{rig.port}?client_id=bench-ioc",
        "IOC_INFLUX_URL": rig.influx.url,
        "IOC_INFLUX_DATABASE": INFLUX_DB,
        "IOC_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "ioc", "serve", "--only", "ingest", "--workers", str(workers)]
    profile = os.environ.get("MQTT_BENCH_PROFILE")
    if profile and workers == 1:  # cProfile of the ingest process itself (it stops cleanly on SIGTERM)
        argv = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "ioc.ingest_workers", "--workers", "1"]
    log = open(rig.workdir / f"ioc{workers}.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    return process


def _failed_attempts(rig: Rig, workers: int) -> int:
    import sqlite3

    home = rig.workdir / f"home-ioc{workers}"
    total = 0
    for spool in home.glob("spool*/telemetry.sqlite3"):
        with sqlite3.connect(spool) as conn:
            row = conn.execute("SELECT value FROM counters WHERE name = 'batches_failed'").fetchone()
        total += int(row[0]) if row else 0
    return total


def run_stack(rig: Rig, stack: str, messages: int, outage: float | None) -> Run:
    rig.start_broker()
    rig.reset_database()
    progress = rig.workdir / f"progress-{stack}"
    progress.unlink(missing_ok=True)
    if stack == "paho":
        consumer = _child("_e2e_paho", str(rig.port), str(progress))
        ready_marker = " as bench-paho "
    elif stack == "naive":
        consumer = _child("_e2e_naive", str(rig.port), rig.influx.url, "ioc_test", str(progress))
        ready_marker = " as bench-naive "
    else:
        workers = int(stack.removeprefix("ioc×"))
        consumer = _ioc(rig, workers)
        ready_marker = " as bench-ioc" if workers == 1 else " as bench-ioc-"
    expected_clients = 1 if stack in ("paho", "naive", "ioc×1") else int(stack.removeprefix("ioc×"))
    deadline = time.monotonic() + 120
    while rig.broker_log().count(ready_marker) < expected_clients:
        if time.monotonic() > deadline or consumer.poll() is not None:
            raise RuntimeError(f"{stack} did not connect")
        time.sleep(0.1)
    time.sleep(1.0)  # SUBSCRIBE follows CONNECT; let start-up CPU settle
    generators = rig.connect_generators(messages)
    sampler = TreeSampler(consumer.pid)
    result = Run(stack)
    try:
        cpu0 = sampler.cpu()
        time.sleep(0.2)
        result.idle_rss = sampler.peak_rss
        t0 = time.monotonic()
        release(generators)
        sent = (messages // rig.generators) * rig.generators
        result.sent = sent
        killed = False
        last_change, last_value = time.monotonic(), -1
        published: list[dict[str, Any]] = []
        while True:
            time.sleep(0.1)
            value = int(progress.read_text() or 0) if stack == "paho" and progress.exists() else None
            if value is None:
                value = rig.stored()
            if value != last_value:
                last_change, last_value = time.monotonic(), value
            if outage is not None and not killed and value >= sent // 4:
                rig.influx.process.kill()  # SIGKILL mid-burst
                killed = True
                time.sleep(outage)
                rig.influx.process.start()  # returns once /ping answers
                answered = time.monotonic()
                before = rig.stored()
                while rig.stored() == before and time.monotonic() - answered < 60:
                    time.sleep(0.05)
                result.recovery_s = time.monotonic() - answered
                continue
            if not published and all(g.poll() is not None for g in generators):
                published = [json.loads((g.communicate()[0] or "{}").strip() or "{}") for g in generators]
            if value >= sent:
                break
            if published and time.monotonic() - last_change > 15:
                result.notes.append(f"stalled at {value} of {sent}")
                for log in rig.workdir.glob("ioc*.log"):  # say why, before the folder goes
                    tail = "\n".join(log.read_text().splitlines()[-15:])
                    print(f"--- {log.name}:\n{tail}", file=sys.stderr)
                break
        result.seconds = time.monotonic() - t0
        result.cpu_s = sampler.cpu() - cpu0
        result.stored = value if stack != "paho" else 0
        if not published:
            published = [json.loads(g.communicate(timeout=600)[0].strip()) for g in generators]
        result.publish_rate = sum(p.get("published", 0) for p in published) / max(
            p.get("seconds", 1e-9) for p in published
        )
    finally:
        sampler.stop()
        result.peak_rss = sampler.peak_rss
        with contextlib.suppress(ProcessLookupError):
            os.killpg(consumer.pid, 15)
        try:
            consumer.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(consumer.pid, 9)
            consumer.wait()
        rig.stop_broker()
    if stack.startswith("ioc"):
        result.failed_attempts = _failed_attempts(rig, int(stack.removeprefix("ioc×")))
    if not rig.influx.process.running:
        rig.influx.process.start()
    return result


def main(messages: int, sensors: int, generators: int, outage: float, stacks: list[str]) -> None:
    import asyncio

    from bench.mqtt_bench import _onboard
    from device_registry.crypto import generate_key
    from ioc.migrate import upgrade
    from tests.support.tsdb import start_influxdb

    workdir = Path(tempfile.mkdtemp(prefix="mqtt-e2e-"))
    db = workdir / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    devices = asyncio.run(_onboard(db, sensors))
    rig = Rig(workdir, devices, db, generate_key().get_secret_value(), generators)
    rig.generator = build_generator(workdir)
    rig.influx = start_influxdb(workdir / "influxdb")
    load_before = os.getloadavg()
    throughput: list[Run] = []
    outages: list[Run] = []
    try:
        for stack in stacks:
            throughput.append(run_stack(rig, stack, messages, None))
            print(f"  {stack}: {throughput[-1].rate:,.0f} msg/s", file=sys.stderr, flush=True)
        for stack in [s for s in stacks if s != "paho"]:
            outages.append(run_stack(rig, stack, messages, outage))
            print(
                f"  {stack} with outage: {outages[-1].stored}/{outages[-1].sent}", file=sys.stderr, flush=True
            )
    finally:
        rig.stop_broker()
        rig.influx.process.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    print(
        f"e2e into InfluxDB 1.x; {os.cpu_count()} cores; load (1/5 min) before "
        f"{load_before[0]:.1f}/{load_before[1]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}; "
        f"{messages:,} messages from {sensors} sensors ({generators} generator processes), "
        "platform JSON format, QoS 1"
    )
    header = ["stack", "msg/s", "pub msg/s", "CPU µs/msg", "idle RSS MiB", "peak RSS MiB", "stored/sent"]
    print("".join(f"{h:>14}" for h in header))
    for run in throughput:
        stored = "-" if run.stack == "paho" else f"{run.stored}/{run.sent}"
        cells = [run.stack, f"{run.rate:,.0f}", f"{run.publish_rate:,.0f}", f"{run.cpu_us:.1f}",
                 f"{run.idle_rss / 2**20:.0f}", f"{run.peak_rss / 2**20:.0f}", stored]  # fmt: skip
        print("".join(f"{c:>14}" for c in cells) + ("  " + "; ".join(run.notes) if run.notes else ""))
    print(f"InfluxDB SIGKILLed once a quarter was stored, restarted after {outage:.0f} s:")
    header = ["stack", "stored/sent", "lost", "recovery s", "failed tries", "peak RSS MiB"]
    print("".join(f"{h:>14}" for h in header))
    for run in outages:
        recovery = "-" if run.recovery_s is None else f"{run.recovery_s:.2f}"
        failed = "-" if run.failed_attempts is None else str(run.failed_attempts)
        cells = [run.stack, f"{run.stored}/{run.sent}", str(run.sent - run.stored), recovery, failed,
                 f"{run.peak_rss / 2**20:.0f}"]  # fmt: skip
        print("".join(f"{c:>14}" for c in cells))
    by_stack = {run.stack: run for run in throughput}
    one, naive = by_stack.get("ioc×1"), by_stack.get("naive")
    if one:  # the target is in decimal MB (100e6 bytes); the tables above are in MiB
        peak = max([one.peak_rss] + [r.peak_rss for r in outages if r.stack == "ioc×1"])
        rss = f"RSS < 100 MB (peak {peak / 1e6:.1f} MB = {peak / 2**20:.1f} MiB)"
        print(f"ioc×1 {rss}: {'MET' if peak < 100e6 else 'NOT MET'}")
    if one and naive:
        checks = {
            "CPU/msg <= naive": one.cpu_us <= naive.cpu_us,
            f"msg/s >= {NODE_RED['msg_s']:,} (Node-RED)": one.rate >= NODE_RED["msg_s"],
            rss: peak < 100e6,
            "0 lost": all(r.stored == r.sent for r in outages if r.stack.startswith("ioc")),
            "recovery < 2 s": all((r.recovery_s or 99) < 2 for r in outages if r.stack.startswith("ioc")),
        }
        print("targets (ioc×1): " + "; ".join(f"{k}: {'MET' if v else 'NOT MET'}" for k, v in checks.items()))
