"""`ioc sla report` and `ioc maintenance` as an operator types them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from device_registry.db import create_engine, session_factory
from monitors.events import DeviceState
from monitors.outage_store import SqlOutageRecorder
from tests.support.ioc_cli import ioc, ioc_json

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
"""Midnight UTC a month ago: a whole past day whenever the suite runs."""
D1, D2 = f"{DAY:%Y-%m-%d}", f"{DAY + timedelta(days=1):%Y-%m-%d}"


async def record_outages(database: Path, rows: list[tuple[int, int, DeviceState, float, float]]) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    recorder = SqlOutageRecorder(session_factory(engine))
    try:
        for device, root, state, start, end in rows:
            outage = await recorder.open(device, root, state, DAY + timedelta(hours=start), "test")
            await recorder.close(outage, DAY + timedelta(hours=end), "back")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Initialised once per module (each `ioc` start costs seconds); tests get a copy."""
    home = tmp_path_factory.mktemp("cli") / "home"
    ioc_json(home, "init")
    ioc_json(home, "sites", "add", "P", "Tỉnh Thử", "--kind", "province")
    ioc_json(home, "sites", "add", "D1", "Huyện Vũ Thư", "--kind", "district", "--parent", "P")
    ioc_json(home, "sites", "add", "A", "Xã Hồng Lý", "--kind", "commune", "--parent", "D1")
    return home


@pytest.fixture
def home(template_home: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template_home, tmp_path / "home"))


def test_sla_report_for_a_district_in_json_and_csv(home: Path) -> None:
    sw = ioc_json(home, "devices", "add", "sw", "--kind", "switch", "--site", "D1", "--address", "127.0.0.1")
    cam = ioc_json(
        home,
        "devices",
        "add",
        "cam",
        "--kind",
        "camera",
        "--site",
        "A",
        "--address",
        "127.0.0.2",
        "--uplink",
        "sw",
    )
    asyncio.run(
        record_outages(
            home / "registry.db",
            [
                (sw["id"], sw["id"], DeviceState.DOWN, 10, 11),
                (cam["id"], sw["id"], DeviceState.UNREACHABLE, 10, 11),
                (cam["id"], cam["id"], DeviceState.DOWN, 14, 16),
            ],
        )
    )
    # 22:00-24:00 local (UTC+7) is 15:00-17:00 UTC: it hides half of the camera's own outage
    window = ioc_json(
        home, "maintenance", "add", "--site", "A", "--reason", "pole work", "--owner", "team-a",
        "--start", f"{D1}T22:00", "--end", f"{D2}T00:00",
    )  # fmt: skip
    assert window["site_id"] and window["starts_at"].startswith(f"{D1}T15:00")

    args = ("sla", "report", "--site", "D1", "--from", f"{D1}T07:00", "--to", f"{D2}T07:00")
    report = ioc_json(home, *args)
    assert report["from"] == f"{D1}T00:00:00+00:00"
    devices = {r["name"]: r for r in report["devices"]}
    assert devices[str(sw["id"])]["uptime_pct"] == pytest.approx(100 * 82_800 / 86_400, abs=1e-4)
    assert (devices[str(cam["id"])]["monitored_s"], devices[str(cam["id"])]["down_s"]) == (79_200, 7_200)
    groups = {r["name"]: r for r in report["groups"]}
    assert groups["site D1"]["uptime_pct"] == pytest.approx(
        100 * (82_800 + 72_000) / (86_400 + 79_200), abs=1e-4
    )

    rows = list(csv.DictReader(io.StringIO(ioc(home, *args, "--format", "csv").stdout)))
    assert [r["scope"] for r in rows] == ["group", "group", "group", "device", "device"]
    assert {r["name"] for r in rows} == {
        "site D1",
        "kind camera",
        "kind switch",
        str(sw["id"]),
        str(cam["id"]),
    }
    assert float(next(r for r in rows if r["name"] == str(cam["id"]))["down_s"]) == 7_200


def test_bad_input_names_the_field_and_writes_nothing(home: Path) -> None:
    bad = ioc(
        home,
        "--json",
        "sla",
        "report",
        "--site",
        "D1",
        "--from",
        "yesterday",
        "--to",
        D2,
        check=False,
    )
    assert bad.returncode != 0 and json.loads(bad.stderr)["error"].startswith("from:")
    unknown = ioc(
        home,
        "--json",
        "sla",
        "report",
        "--site",
        "NOPE",
        "--from",
        D1,
        "--to",
        D2,
        check=False,
    )
    assert unknown.returncode != 0 and "site" in json.loads(unknown.stderr)["error"]
    both = ioc(
        home,
        "--json",
        "maintenance",
        "add",
        "--device",
        "1",
        "--site",
        "A",
        "--reason",
        "r",
        "--owner",
        "o",
        check=False,
    )
    assert both.returncode != 0 and json.loads(both.stderr)["error"].startswith("device/site")
    no_duration = ioc(
        home, "--json", "maintenance", "add", "--site", "A", "--reason", "r", "--owner", "o", "--cron", "0 2 * * *",
        check=False,
    )  # fmt: skip
    assert no_duration.returncode != 0 and json.loads(no_duration.stderr)["error"].startswith("duration")
    assert ioc_json(home, "maintenance", "list") == [], "refused adds wrote nothing"


def test_recurring_window_listed_and_removed(home: Path) -> None:
    added = ioc_json(
        home, "maintenance", "add", "--site", "D1", "--reason", "firmware", "--owner", "ops",
        "--cron", "0 2 * * 0", "--duration", "90",
    )  # fmt: skip
    assert (added["cron"], added["duration_s"], added["timezone"]) == ("0 2 * * 0", 5400, "Asia/Ho_Chi_Minh")
    assert [w["id"] for w in ioc_json(home, "maintenance", "list")] == [added["id"]]
    assert ioc_json(home, "maintenance", "remove", str(added["id"])) == {"removed": added["id"]}
    gone = ioc(home, "--json", "maintenance", "remove", str(added["id"]), check=False)
    assert gone.returncode != 0 and json.loads(gone.stderr)["error"].startswith("window_id")
