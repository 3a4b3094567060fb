"""The operator's story on the command line: broker set-up, onboarding, revocation, import, dead letters."""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from device_registry.db import create_engine, session_factory
from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.ingest.deadletters import DeadLetterStore, NewDeadLetter
from telemetry.ingest.records import Rejection, RejectReason
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

PLATFORM_PASSWORD = "platform-pass-1"
T0 = int(time.time()) - 86_400
"""A day ago, in whole seconds: inside the window the ingest accepts whenever the suite runs."""


def ioc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ioc.cli.main import run; run()", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return {
        **os.environ,
        "IOC_HOME": str(tmp_path / "home"),
        "IOC_MQTT_URL": f"mqtt://ioc-ingest:{PLATFORM_PASSWORD}@127.0.0.1:{port}",
        "PORT": str(port),
    }


async def test_onboard_publish_revoke_import_and_list_dead_letters(
    home: dict[str, str], tmp_path: Path
) -> None:
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin"])
    port = int(home["PORT"])
    assert ioc(home, "init").returncode == 0
    assert ioc(home, "sites", "add", "HL", "Xã Hồng Lý", "--kind", "commune").returncode == 0
    run_as = ["--run-as", getpass.getuser()] if os.geteuid() == 0 else []
    configured = ioc(home, "mqtt", "broker-config", *run_as)
    assert configured.returncode == 0, configured.stderr
    config = json.loads(configured.stdout)["config"]
    broker = ManagedProcess([binary, "-c", config], tmp_path / "broker.log", ready=lambda: wait_for_tcp(port))
    broker.start()
    try:
        onboarded = ioc(home, "onboard", "mqtt", "water-level-hl-1", "--site", "HL")
        assert onboarded.returncode == 0, onboarded.stderr
        sensor = json.loads(onboarded.stdout)
        assert onboarded.stderr == ""
        # The former name still onboards, with the same output, and says the new one on stderr, once.
        legacy = ioc(home, "onboard", "sensor", "water-level-hl-2", "--site", "HL", "--tag", "legacy")
        assert legacy.returncode == 0, legacy.stderr
        assert legacy.stderr.splitlines() == [
            "warning: `ioc onboard sensor` is deprecated, use `ioc onboard mqtt` (same options and output)"
        ]
        legacy_sensor = json.loads(legacy.stdout)
        assert set(legacy_sensor) == set(sensor) and legacy_sensor["name"] == "water-level-hl-2"
        assert legacy_sensor["broker"].startswith("broker reloaded")
        helped = ioc(home, "onboard", "--help").stdout
        assert re.findall(r"^│ (\w+) ", helped, re.MULTILINE) == ["snmp", "onvif", "mqtt"]  # not "sensor"
        assert sensor["broker"].startswith("broker reloaded")
        assert sensor["topics"]["senml"] == f"ioc/v1/d/{sensor['device_id']}/senml"
        device, password = sensor["device_id"], sensor["one_time_password"]
        async with aiomqtt.Client("127.0.0.1", port, username=str(device), password=password) as client:
            await client.publish(
                device_topic(device, TopicKind.SENML), b'[{"n":"level","u":"m","v":1}]', qos=1
            )

        good = tmp_path / "good.senml.json"
        good.write_text(
            json.dumps(
                [{"bn": "level/", "bt": T0, "bu": "m", "n": "a", "v": 1.5}, {"n": "b", "t": 60, "v": 2}]
            )
        )
        checked = ioc(
            home, "telemetry", "import", str(good), "--device", str(device), "--format", "senml", "--dry-run"
        )
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout) == {
            "accepted": [
                {"n": "level/a", "t": T0, "u": "m", "v": 1.5},
                {"n": "level/b", "t": T0 + 60, "u": "m", "v": 2.0},
            ],
            "rejected": [],
        }
        mixed = tmp_path / "logger.jsonl"
        mixed.write_text(
            f'{{"ts": {T0}, "fields": {{"level": 1.2}}}}\n{{"fields": {{"level": NaN}}}}\n\nnot json\n'
        )
        result = ioc(
            home, "telemetry", "import", str(mixed), "--device", str(device), "--format", "json", "--dry-run"
        )
        assert result.returncode == 1
        body = json.loads(result.stdout)
        assert body["accepted"] == [{"n": "level", "t": T0, "v": 1.2}]
        assert [(r["item"], r["reason"]) for r in body["rejected"]] == [(2, "not_finite"), (4, "not_json")]

        revoked = ioc(home, "mqtt", "revoke", str(device))
        assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked"] is True
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port, username=str(device), password=password):
                pass
    finally:
        broker.stop()

    engine = create_engine(f"sqlite+aiosqlite:///{Path(home['IOC_HOME']) / 'registry.db'}")
    try:
        letter = NewDeadLetter(
            device_topic(device, TopicKind.SENML),
            device,
            Rejection(RejectReason.NOT_JSON, "x"),
            b"oops",
            T0,
        )
        await DeadLetterStore(session_factory(engine)).add([letter])
    finally:
        await engine.dispose()
    listed = ioc(home, "deadletters", "list", "--device", str(device))
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["reason"], row["payload_text"], row["topic"]) == (
        "not_json",
        "oops",
        f"ioc/v1/d/{device}/senml",
    )
