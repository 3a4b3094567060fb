"""The `ioc` command as an engineer types it: JSON on stdout with --json, errors on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.ioc_cli import ioc, ioc_json


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_init_load_reform_and_devices_end_to_end(home: Path, tmp_path: Path):
    first = ioc_json(home, "init")
    assert first["admin_created"] and first["token"].startswith("ioc_")
    assert (home / "secret.key").stat().st_mode & 0o777 == 0o600
    again = ioc_json(home, "init")
    assert again["token"] is None, "the admin token is printed once only"

    loaded = ioc_json(home, "sites", "load-vn", "--province", "34")
    assert (loaded["districts"], loaded["communes"]) == (8, 242)
    switch = ioc_json(
        home,
        "devices",
        "add",
        "sw-vu-thu",
        "--kind",
        "switch",
        "--site",
        "344",
        "--address",
        "10.34.4.1",
        "--protocol",
        "snmp",
    )
    camera = ioc_json(
        home,
        "devices",
        "add",
        "cam-vu-thu",
        "--kind",
        "camera",
        "--site",
        "13192",
        "--uplink",
        "sw-vu-thu",
        "--tag",
        "traffic",
    )
    assert isinstance(camera["id"], int) and camera["uplink_ids"] == [switch["id"]]

    reform = ioc_json(home, "sites", "apply-reform-2025", "--province", "34")
    assert reform["devices_moved"] == 2 and reform["sites_closed"] == 251
    communes = ioc_json(home, "sites", "list", "--include-closed", "--kind", "commune", "--limit", "10000")
    legacy = [s for s in communes["items"] if s["code_version"] == "legacy"]
    assert legacy and all(s["valid_to"] == "2025-07-01" and s["successor_codes"] for s in legacy)
    shown = ioc_json(home, "devices", "show", "cam-vu-thu")
    assert [h["reason"] for h in shown["history"]] == ["created", "reform-2025"]
    assert shown["site"]["open"] is True
    old = ioc_json(home, "sites", "list", "--search", "vu thu", "--include-closed")
    assert "Huyện Vũ Thư" in {s["name"] for s in old["items"]}

    exported = tmp_path / "fleet.csv"
    ioc(home, "devices", "export", "-o", str(exported))
    assert "cam-vu-thu" in exported.read_text()
    reimport = ioc_json(home, "devices", "import", str(exported))
    assert reimport["unchanged"] == 2


def test_errors_go_to_stderr_with_nonzero_exit(home: Path, tmp_path: Path):
    ioc(home, "init")
    missing = ioc(home, "--json", "devices", "add", "cam", "--kind", "camera", "--site", "NOPE", check=False)
    assert missing.returncode != 0 and missing.stdout == ""
    assert "NOPE" in json.loads(missing.stderr)["error"]

    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,site\nsw,switch,NOPE\ncam,toaster,NOPE\n", encoding="utf-8")
    rejected = ioc(home, "devices", "import", str(bad), check=False)
    assert rejected.returncode == 2
    assert "line 2, field site" in rejected.stderr and "line 3, field kind" in rejected.stderr
    assert ioc_json(home, "devices", "list")["total"] == 0

    usage = ioc(home, "devices", "add", "cam", "--kind", "toaster", "--site", "x", check=False)
    assert usage.returncode == 2 and "toaster" in usage.stderr
