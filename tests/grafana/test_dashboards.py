"""The dashboards as files: SDK round trip, provisioning as Grafana reads it, the committed export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from grafana.dashboards import all_dashboards
from grafana.influxql import InfluxQLQuery
from grafana.provisioning import dashboard_json, rendered_files
from tests.grafana.cli import ioc

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "deploy" / "grafana"


def test_every_dashboard_round_trips_through_the_sdk_models_unchanged() -> None:
    boards = all_dashboards()
    assert [b.uid for b in boards] == ["ioc-fleet", "ioc-device", "ioc-availability", "ioc-platform"]
    for board in boards:
        first = dashboard_json(board)
        again = Dashboard.from_json(first)
        targets = [t for p in again.panels or [] for t in getattr(p, "targets", None) or []]
        assert targets and all(isinstance(t, InfluxQLQuery) for t in targets), board.uid
        assert dashboard_json(again) == first


def test_provisioning_files_have_the_keys_grafana_reads() -> None:
    files = rendered_files()
    sources = yaml.safe_load(files["provisioning/datasources/ioc.yaml"])
    assert sources["apiVersion"] == 1
    [source] = sources["datasources"]
    assert {k: source[k] for k in ("name", "type", "uid", "access", "url", "user")} == {
        "name": "IOC InfluxDB",
        "type": "influxdb",
        "uid": "ioc-influxdb",
        "access": "proxy",
        "url": "$IOC_INFLUX_URL",
        "user": "$IOC_INFLUX_USERNAME",
    }
    assert source["jsonData"] == {"dbName": "$IOC_INFLUX_DATABASE", "httpMode": "POST", "version": "InfluxQL"}
    assert source["secureJsonData"] == {"password": "$IOC_INFLUX_PASSWORD"}
    providers = yaml.safe_load(files["provisioning/dashboards/ioc.yaml"])
    assert providers["apiVersion"] == 1
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["folder"] == "IOC" and provider["folderUid"] == "ioc"
    # The path docker-compose.yml mounts ./deploy/grafana/dashboards at.
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/ioc"
    compose = (REPO / "docker-compose.yml").read_text()
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards/ioc" in compose
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning" in compose
    boards = {path: json.loads(body) for path, body in files.items() if path.startswith("dashboards/")}
    assert sorted(boards) == [
        f"dashboards/{b['uid']}.json" for b in sorted(boards.values(), key=lambda b: b["uid"])
    ]
    every_source = {
        json.dumps(t["datasource"], sort_keys=True)
        for b in boards.values()
        for p in b["panels"]
        for t in p.get("targets", [])
    }
    assert every_source == {'{"type": "influxdb", "uid": "ioc-influxdb"}'}


def test_a_fresh_export_equals_the_committed_deploy_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    done = ioc(capsys, monkeypatch, "grafana", "export", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    fresh = {
        p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()
    }
    committed = {p.relative_to(COMMITTED): p.read_bytes() for p in COMMITTED.rglob("*") if p.is_file()}
    assert sorted(map(str, fresh)) == sorted(map(str, committed)), (
        "run `ioc grafana export deploy/grafana --force`"
    )
    drifted = [str(path) for path in fresh if fresh[path] != committed[path]]
    assert drifted == [], "run `ioc grafana export deploy/grafana --force`"


def test_export_refuses_a_non_empty_folder_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "grafana"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    refused = ioc(capsys, monkeypatch, "--json", "grafana", "export", str(target))
    assert refused.returncode == 1
    assert "not empty" in json.loads(refused.stderr)["error"] and "--force" in refused.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    forced = ioc(capsys, monkeypatch, "--json", "grafana", "export", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(json.loads(forced.stdout)["files"]) == 6
    assert (target / "notes.txt").read_text() == "mine"
    assert json.loads((target / "dashboards" / "ioc-fleet.json").read_text())["uid"] == "ioc-fleet"
