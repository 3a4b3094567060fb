"""`ioc demo`: start every server and simulator as a child, onboard the fleet, run `ioc serve`, play
the fault timeline, and stop everything on Ctrl-C or SIGTERM.

Children run in their own process groups and are stopped group by group (SIGTERM, then SIGKILL
after 10 s); each also asks the kernel for SIGTERM should the supervisor die without cleaning up.
Their PIDs are in ``IOC_HOME/demo/pids.json`` while the demo runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from device_registry.crypto import load_or_create_key_file
from ioc.demo import faults
from ioc.demo.fleet import ONVIF_PORT, SNMP_PORT, FleetPlan, Size, build_plan
from ioc.demo.home import (
    DemoLock,
    DemoPaths,
    choose_net,
    choose_ports,
    load_state,
    save_state,
    secret,
    write_env,
)
from ioc.demo.provision import Provisioner
from ioc.demo.servers import create_database, influx_process, wait_http_ok
from ioc.migrate import upgrade
from ioc.mqtt_broker import broker_files
from ioc.runtime import Platform
from ioc.settings import Settings
from provisioning.mqtt.broker import ServiceUser
from provisioning.mqtt.passwords import hash_password
from provisioning.mqtt.sync import sync_broker
from simulators.onvif_camera.rtsp_process import check_gstreamer, rtsp_server_process
from simulators.process import ManagedProcess, find_binary, wait_for_tcp
from simulators.snmp_agents import (
    AgentSpec,
    data_root,
    device_recording,
    read_walk,
    responder_binary,
    snmpsim_process,
)

log = logging.getLogger(__name__)
INFLUX_DB = "ioc"
PLATFORM_MQTT_USER = "ioc-platform"
CAMERA_USER = "admin"
SENSOR_INTERVAL_S = 10
POLL_PERIOD_S = {"small": 10, "province": 60}
SENSOR_CHECK_S = {"small": 5, "province": 60}
"""How often a sensor's freshness is looked at (an in-memory lookup, cheap)."""
RESTART_PAUSE_S = 5.0
SNMP_TIMEOUT_S = {"small": 2.0, "province": 5.0}
"""A thousand devices in one `ioc serve` on a shared 2-core machine answer late: measured, 2 s lost
most SNMP polls of the province (see bench/demo_bench.py)."""
Say = Callable[[str], None]


def check_binaries() -> None:
    """Every program the demo starts, before anything starts: a missing one names its package."""
    find_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    find_binary("influxd", "influxdb")
    find_binary("snmpget", "snmp")
    responder_binary()
    data_root()
    check_gstreamer(h265=True)


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        size: Size,
        *,
        timeline: bool = True,
        timeline_scale: float = 1.0,
        say: Say = print,
    ) -> None:
        self.settings = settings
        self.size = size
        self.timeline = timeline
        self.timeline_scale = timeline_scale
        self.say = say
        self.paths = DemoPaths(settings.home)
        self.lock = DemoLock(self.paths)
        self.children: dict[str, ManagedProcess] = {}
        self.stop = asyncio.Event()
        self.state: dict[str, Any] = {}
        self.ports: dict[str, int] = {}
        self.plan: FleetPlan | None = None
        self.fault_tasks: set[asyncio.Task[None]] = set()
        self.held: set[str] = set()
        self.restarted: dict[str, float] = {}
        """Children a fault stopped on purpose: not restarted by the watcher."""
        self.wrap = faults.WrapDriver()

    # -- life cycle --------------------------------------------------------------------------------

    async def run(self) -> None:
        self.lock.acquire()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        try:
            # Ctrl-C during a long start-up (a province onboards for minutes) stops it at once
            starting = asyncio.create_task(self._start())
            stopping = asyncio.create_task(self.stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not starting.done():
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
            else:
                starting.result()
                await self._serve_forever()
        finally:
            # the handlers stay until every child is stopped: a second Ctrl-C must not kill us half-way
            tasks = list(self.fault_tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._stop_children()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.lock.release()
            self.say("demo stopped: every process it started has ended")

    async def _start(self) -> None:
        check_binaries()
        self.paths.make()
        for leftover in [*self.paths.control.iterdir(), *self.paths.requests.iterdir()]:
            leftover.unlink()  # faults of a demo that did not end cleanly
        self.state = load_state(self.paths)
        self.ports, notes = choose_ports(self.state)
        for note in notes:
            self.say(note)
        net = choose_net(self.state, SNMP_PORT)
        self.plan = build_plan(self.size, net)
        save_state(self.paths, self.state)
        self.say(f"demo fleet ({self.size}): {self.plan.device_count} devices on 127.{net}.0.0/16")

        await asyncio.gather(self._start_infrastructure(), self._start_simulators())
        if self.stop.is_set():
            return
        await asyncio.to_thread(self._prepare_database)
        platform = Platform.open(self.settings)
        try:
            provisioned = await Provisioner(platform, self.plan, self.state, self.say).run(
                smtp_port=self.ports["smtp"], camera_password=secret(self.state, "camera")
            )
            save_state(self.paths, self.state)
            mqtt = self.children["mosquitto"]
            files = broker_files(self.settings)
            await sync_broker(platform.sessions, files, self._service_users(), mqtt.pid)
        finally:
            await platform.close()
        self.say(
            f"registry: {provisioned.onboarded} devices onboarded now, {provisioned.existing} already there"
        )
        if self.stop.is_set():
            return
        await self._start_serve()
        await self._start_sensors()  # after the ingest subscribed: their first readings are not lost
        self._write_env()
        self._banner()

    def _prepare_database(self) -> None:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        if self.settings.secret_key is None:
            load_or_create_key_file(self.settings.secret_key_file, create=True)
        upgrade(self.settings.effective_database_url)

    async def _launch(self, name: str, process: ManagedProcess) -> ManagedProcess:
        self.children[name] = process
        await asyncio.to_thread(process.start)
        self._record_pids()
        return process

    def _record_pids(self) -> None:
        pids = {name: child.pid for name, child in self.children.items() if child.running}
        self.paths.pids.write_text(json.dumps({"supervisor": os.getpid(), "children": pids}, indent=2))

    async def _stop_children(self) -> None:
        for name in reversed(list(self.children)):
            child = self.children[name]
            await asyncio.to_thread(child.stop)
        with contextlib.suppress(FileNotFoundError):
            self.paths.pids.unlink()

    # -- servers ---------------------------------------------------------------------------------------

    def _service_users(self) -> list[ServiceUser]:
        return [ServiceUser(PLATFORM_MQTT_USER, hash_password(secret(self.state, "mqtt")))]

    async def _start_infrastructure(self) -> None:
        logs = self.paths.logs
        influx = influx_process(
            self.paths.folder("influxdb"),
            self.ports["influx"],
            self.ports["influx_rpc"],
            log_path=logs / "influxd.log",
        )
        files = broker_files(self.settings)
        config = files.write_config(
            self.ports["mqtt"], run_as_user=getpass.getuser() if os.geteuid() == 0 else None
        )
        mosquitto = ManagedProcess(
            [find_binary("mosquitto", "mosquitto", search=["/usr/sbin"]), "-c", str(config)],
            logs / "mosquitto.log",
            ready=lambda: wait_for_tcp(self.ports["mqtt"]),
            die_with_parent=True,
        )
        mailbox = ManagedProcess(
            [
                sys.executable,
                "-m",
                "simulators.mailbox",
                "--port",
                str(self.ports["smtp"]),
                "--dir",
                str(self.paths.mail),
            ],
            logs / "mailbox.log",
            ready=lambda: wait_for_tcp(self.ports["smtp"]),
            die_with_parent=True,
        )
        await asyncio.gather(
            self._launch("influxdb", influx),
            self._launch("mosquitto", mosquitto),
            self._launch("mailbox", mailbox),
        )
        await asyncio.to_thread(create_database, self.ports["influx"], INFLUX_DB)

    async def _start_simulators(self) -> None:
        assert self.plan is not None
        password = secret(self.state, "camera")
        logs = self.paths.logs
        rtsp = rtsp_server_process(
            self.paths.folder("rtsp"),
            self.ports["rtsp"],
            user=CAMERA_USER,
            password=password,
            h265_path="/h265",
        )
        rtsp.log_path = logs / "rtsp.log"
        rtsp_fault = rtsp_server_process(
            self.paths.folder("rtsp"), self.ports["rtsp_fault"], user=CAMERA_USER, password=password
        )
        rtsp_fault.log_path = logs / "rtsp-fault.log"
        launches = [self._launch("rtsp", rtsp), self._launch("rtsp-fault", rtsp_fault)]
        walks: dict[str, list[str]] = {}
        root = data_root()
        for group, switches in self.plan.switch_groups().items():
            agents = []
            for switch in switches:
                if switch.walk not in walks:
                    walks[switch.walk] = await asyncio.to_thread(read_walk, root / switch.walk)
                recording = device_recording(walks[switch.walk], switch.name, wrap_agent=switch.wrap)
                if switch.wrap:
                    self.wrap.oid = next(
                        r.split("|")[0] for r in recording.splitlines() if ":writecache" in r
                    )
                agents.append(AgentSpec(switch.name, switch.address, SNMP_PORT, recording))
            process = snmpsim_process(self.paths.folder(f"snmpsim/{group}"), agents)
            process.log_path = logs / f"snmpsim-{group}.log"
            launches.append(self._launch(f"snmpsim-{group}", process))
        cameras = self.paths.root / "cameras.json"
        cameras.write_text(json.dumps(self._camera_configs(password), ensure_ascii=False, indent=1))
        launches.append(
            self._launch(
                "cameras",
                ManagedProcess(
                    [
                        sys.executable,
                        "-m",
                        "simulators.demo.cameras",
                        "--config",
                        str(cameras),
                        "--control",
                        str(self.paths.control),
                    ],
                    logs / "cameras.log",
                    ready=lambda: self._wait_log(logs / "cameras.log", "READY", 120),
                    die_with_parent=True,
                ),
            )
        )
        await asyncio.gather(*launches)

    def _camera_configs(self, password: str) -> list[dict[str, Any]]:
        assert self.plan is not None
        configs = []
        for index, camera in enumerate(self.plan.cameras):
            port = self.ports["rtsp_fault"] if camera.stream == "fault" else self.ports["rtsp"]
            path = "h265" if camera.h265 else "stream"
            configs.append(
                {
                    "district": camera.district,
                    "camera": {
                        "name": camera.name,
                        "manufacturer": camera.vendor,
                        "model": camera.model,
                        "serial": f"DEMO{self.plan.net:03d}{index:05d}",
                        "host": camera.address,
                        "port": ONVIF_PORT,
                        "username": CAMERA_USER,
                        "password": password,
                        "channels": camera.channels,
                        "h265_only": camera.h265,
                        "rtsp_url": f"rtsp://127.0.0.1:{port}/{path}",
                        "mac": f"02:00:{self.plan.net:02x}:00:{index // 256:02x}:{index % 256:02x}",
                    },
                }
            )
        return configs

    @staticmethod
    def _wait_log(path: Path, word: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                if word in path.read_text(errors="replace"):
                    return
            time.sleep(0.1)
        raise TimeoutError(f"no {word} in {path} within {timeout}s")

    async def _start_sensors(self) -> None:
        assert self.plan is not None
        known = self.state.get("sensors", {})
        sensors = [
            {**known[s.name], "district": s.district, "quantity": s.quantity, "unit": s.unit, "base": s.base}
            for s in self.plan.sensors
            if s.name in known
        ]
        config = self.paths.root / "sensors.json"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "broker": {"host": "127.0.0.1", "port": self.ports["mqtt"]},
                    "interval_s": SENSOR_INTERVAL_S,
                    "flap_s": faults.FLAP_S[self.size],
                    "sensors": sensors,
                },
                handle,
            )
        log_path = self.paths.logs / "sensors.log"
        log_path.write_text("")
        await self._launch(
            "sensors",
            ManagedProcess(
                [
                    sys.executable,
                    "-m",
                    "simulators.demo.sensors",
                    "--config",
                    str(config),
                    "--control",
                    str(self.paths.control),
                ],
                log_path,
                ready=lambda: self._wait_log(log_path, "READY", 60),
                die_with_parent=True,
            ),
        )

    def serve_env(self) -> dict[str, str]:
        """The settings `ioc serve` runs with: every server of the demo, and its timings: the small fleet
        is polled and checked every 10 s so that a new user sees it live within a minute; the province
        runs the production periods (60 s), as an operations centre would, with longer timeouts."""
        p = self.ports
        period = POLL_PERIOD_S[self.size]
        return {
            "IOC_HOME": str(self.settings.home),
            "IOC_API__HOST": "127.0.0.1",
            "IOC_API__PORT": str(p["api"]),
            "IOC_MQTT_URL": f"mqtt://{PLATFORM_MQTT_USER}:{secret(self.state, 'mqtt')}@127.0.0.1:{p['mqtt']}",
            "IOC_INFLUX_URL": f"http://127.0.0.1:{p['influx']}",
            "IOC_INFLUX_DATABASE": INFLUX_DB,
            # the fleet stands on loopback, which probes, discovery and onboarding refuse unless allowed
            "IOC_SNMP__ALLOWED_NETWORKS": "127.0.0.0/8",
            "IOC_ONVIF__ALLOWED_NETWORKS": "127.0.0.0/8",
            "IOC_SNMP__INTERVAL_S": str(period),
            "IOC_SNMP__TIMEOUT": str(SNMP_TIMEOUT_S[self.size]),
            "IOC_MONITORS__CHECK_TIMEOUT_S": str(SNMP_TIMEOUT_S[self.size]),
            "IOC_ONVIF__POLL_INTERVAL_S": str(period),
            "IOC_MONITORS__DEFAULT__INTERVAL_S": str(period),
            "IOC_MONITORS__DEFAULT__RETRY_INTERVAL_S": "2",
            "IOC_MONITORS__DEFAULT__FAIL_THRESHOLD": "3",
            "IOC_MONITORS__DEFAULT__RECOVER_THRESHOLD": "2",
            # sensors publish every 10 s: silent for 30 s, their freshness check fails; a second failure
            # 5 s later makes them DOWN, and one fresh message proves them back
            "IOC_MONITORS__MQTT_PUBLISH_INTERVAL_S": str(SENSOR_INTERVAL_S),
            "IOC_MONITORS__KINDS__SENSOR__INTERVAL_S": str(SENSOR_CHECK_S[self.size]),
            "IOC_MONITORS__KINDS__SENSOR__RETRY_INTERVAL_S": "5",
            "IOC_MONITORS__KINDS__SENSOR__FAIL_THRESHOLD": "2",
            "IOC_MONITORS__KINDS__SENSOR__RECOVER_THRESHOLD": "1",
            "IOC_MONITORS__REGISTRY_REFRESH_S": "10",
            "IOC_MONITORS__PARENT_CHECK_FRESH_S": "2",
        }

    async def _start_serve(self) -> None:
        env = self.serve_env()
        health = f"http://127.0.0.1:{self.ports['api']}/api/v1/health"
        await self._launch(
            "ioc-serve",
            ManagedProcess(
                [sys.executable, "-m", "ioc", "serve"],
                self.paths.logs / "ioc-serve.log",
                env=env,
                ready=lambda: wait_http_ok(health, 120),
                die_with_parent=True,
            ),
        )

    def _write_env(self) -> None:
        env = self.serve_env()
        env.pop("IOC_API__HOST")
        env["IOC_TOKEN"] = str(self.state.get("admin_token", ""))
        env["IOC_DEMO_API"] = f"http://127.0.0.1:{self.ports['api']}"
        env["IOC_DEMO_MAIL"] = str(self.paths.mail)
        write_env(self.paths, env)

    def _banner(self) -> None:
        p = self.ports
        api = f"http://127.0.0.1:{p['api']}"
        lines = [
            "",
            "IOC demo is running (Ctrl-C stops everything)",
            f"  status page and API   {api}/   (OpenAPI docs: {api}/docs)",
            f"  admin token           {self.state.get('admin_token')}",
            f"  InfluxDB              http://127.0.0.1:{p['influx']}  database {INFLUX_DB}",
            f"  MQTT broker           127.0.0.1:{p['mqtt']}",
            f"  alert mail (.eml)     {self.paths.mail}",
            f"  second shell          . {self.paths.env}",
            "  look at points        curl -s http://127.0.0.1:"
            f"{p['influx']}/query --data-urlencode db={INFLUX_DB} "
            "--data-urlencode 'q=SELECT * FROM sensor ORDER BY time DESC LIMIT 5'",
            "  states                ioc status  ·  ioc alerts list",
            f"  faults                ioc demo fault NAME   ({', '.join(faults.FAULTS)})",
            "",
        ]
        for line in lines:
            self.say(line)

    # -- running -----------------------------------------------------------------------------------

    async def _serve_forever(self) -> None:
        started = time.monotonic()
        driver = asyncio.create_task(self.wrap.run(self))
        self.fault_tasks.add(driver)
        played: set[tuple[int, str]] = set()
        while not self.stop.is_set():
            await self._take_requests()
            if self.timeline:
                elapsed = time.monotonic() - started
                for cycle, _offset, name, duration in faults.due(elapsed, self.timeline_scale):
                    if (cycle, name) not in played:
                        played.add((cycle, name))
                        self.say(f"timeline: {name}")
                        self.start_fault(name, None, duration * self.timeline_scale)
            await self._watch_children()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=1.0)

    def start_fault(self, name: str, target: str | None, duration: float | None) -> str:
        assert self.plan is not None
        fault = faults.FAULTS[name]
        message, body = fault(self, target, duration)
        task = asyncio.create_task(body, name=f"fault:{name}")
        self.fault_tasks.add(task)
        task.add_done_callback(self._fault_done)
        self.say(message)
        return message

    def _fault_done(self, task: asyncio.Task[None]) -> None:
        self.fault_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.say(f"{task.get_name()} failed: {task.exception()!r}")

    async def _take_requests(self) -> None:
        for request in sorted(self.paths.requests.glob("*.json")):
            reply = request.with_suffix(".reply")
            try:
                body = json.loads(request.read_text())
                request.unlink()
                message = self.start_fault(body["fault"], body.get("target"), body.get("duration"))
                reply.write_text(json.dumps({"ok": True, "message": message}))
            except (KeyError, ValueError, OSError) as error:
                with contextlib.suppress(FileNotFoundError):
                    request.unlink()
                reply.write_text(json.dumps({"ok": False, "message": str(error)}))

    async def _watch_children(self) -> None:
        """A child that died on its own (not one a fault stopped) is restarted, at most once every
        ``RESTART_PAUSE_S`` so a child that cannot start does not spin."""
        for name, child in list(self.children.items()):
            if child.running or name in self.held:
                continue
            if time.monotonic() - self.restarted.get(name, 0.0) < RESTART_PAUSE_S:
                continue
            self.restarted[name] = time.monotonic()
            self.say(f"{name} exited ({child.process.returncode if child.process else '?'}); restarting it")
            self.say(child.log_tail(10))
            try:
                await asyncio.to_thread(child.start)
            except RuntimeError as error:
                self.say(f"{name} did not restart: {error}")
            self._record_pids()

    async def hold_down(self, name: str, take_down: Callable[[], None], seconds: float) -> None:
        """Take a child down (``stop`` or ``kill``), keep it down for ``seconds``, start it again;
        the watcher leaves it alone meanwhile."""
        self.held.add(name)
        try:
            await asyncio.to_thread(take_down)
            await asyncio.sleep(seconds)
            await asyncio.to_thread(self.children[name].start)
            self._record_pids()
        finally:
            self.held.discard(name)

    def serve_ioc_cli(self, *args: str) -> dict[str, Any]:
        """Run an ``ioc --json`` command against this demo (what a second shell would type)."""
        import subprocess

        env = {**os.environ, **self.serve_env()}
        done = subprocess.run(
            [sys.executable, "-m", "ioc", "--json", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return dict(json.loads(done.stdout))

    def influx_query(self, query: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"http://127.0.0.1:{self.ports['influx']}/query", data={"q": query, "db": INFLUX_DB}, timeout=10
        )
        response.raise_for_status()
        return list(response.json()["results"][0].get("series", []))
