"""``ioc grafana push`` against the fake Grafana that validates every request against Grafana's spec."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grafana.dashboards import all_dashboards
from grafana.provisioning import dashboard_json
from tests.grafana.cli import Done, ioc
from tests.support.fake_grafana import FakeGrafana

INFLUX_PASSWORD = "influx-read-secret"


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana(token="push-token-5f1c").start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == []


@pytest.fixture
def push(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Done]:
    """``ioc --json grafana push --url …`` with the token and the datasource settings in the environment."""

    def run(grafana: FakeGrafana, *, token: str | None = None) -> Done:
        env = {
            "IOC_HOME": str(tmp_path / "home"),
            "IOC_GRAFANA_TOKEN": token or grafana.token,
            "IOC_INFLUX_URL": "http://influxdb:8086",
            "IOC_INFLUX_DATABASE": "ioc",
            "IOC_INFLUX_USERNAME": "grafana",
            "IOC_INFLUX_PASSWORD": INFLUX_PASSWORD,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return ioc(capsys, monkeypatch, "--json", "grafana", "push", "--url", grafana.url, "--timeout", "3")

    return run


def wanted_dashboards() -> dict[str, dict[str, object]]:
    return {str(board.uid): dashboard_json(board) for board in all_dashboards()}


def test_push_creates_everything_and_a_second_push_writes_nothing(
    grafana: FakeGrafana, push: Callable[..., Done]
) -> None:
    first = push(grafana)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["created"]) == 6
    assert grafana.folders["ioc"]["title"] == "IOC"
    source = grafana.datasources["ioc-influxdb"]
    assert (source["type"], source["url"], source["user"]) == ("influxdb", "http://influxdb:8086", "grafana")
    assert source["jsonData"] == {"dbName": "ioc", "httpMode": "POST", "version": "InfluxQL"}
    assert source["secureJsonData"] == {"password": INFLUX_PASSWORD}
    assert {uid: saved["dashboard"] for uid, saved in grafana.dashboards.items()} == wanted_dashboards()
    assert {saved["folderUid"] for saved in grafana.dashboards.values()} == {"ioc"}
    assert grafana.writes() == [
        ("POST", "/api/folders"),
        ("POST", "/api/datasources"),
        *[("POST", "/api/dashboards/db")] * 4,
    ]

    grafana.requests.clear()
    second = push(grafana)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {
        "created": [],
        "updated": [],
        "unchanged": json.loads(first.stdout)["created"],
    }
    assert grafana.writes() == [], "an unchanged push must not write"
    assert {saved["version"] for saved in grafana.dashboards.values()} == {1}
    assert INFLUX_PASSWORD not in first.stdout + second.stdout + first.stderr + second.stderr

    # Someone edits a dashboard in Grafana and renames the folder: the next push puts ours back, same uid.
    grafana.dashboards["ioc-fleet"]["dashboard"] = {
        **grafana.dashboards["ioc-fleet"]["dashboard"],
        "title": "x",
    }
    grafana.folders["ioc"]["title"] = "Renamed"
    grafana.requests.clear()
    third = push(grafana)
    assert third.returncode == 0, third.stderr
    assert sorted(json.loads(third.stdout)["updated"]) == ["dashboard ioc-fleet", "folder ioc"]
    assert grafana.writes() == [("PUT", "/api/folders/ioc"), ("POST", "/api/dashboards/db")]
    assert grafana.dashboards["ioc-fleet"]["version"] == 2
    assert grafana.dashboards["ioc-fleet"]["dashboard"] == wanted_dashboards()["ioc-fleet"]


def test_a_push_cut_short_leaves_whole_objects_and_a_rerun_completes_it(
    grafana: FakeGrafana, push: Callable[..., Done]
) -> None:
    grafana.writes_left = 3  # folder, datasource, one dashboard; then Grafana answers 503
    failed = push(grafana)
    assert failed.returncode == 1
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "refused POST /dashboards/db (HTTP 503)" in failed.stderr
    wanted = wanted_dashboards()
    assert list(grafana.dashboards) == ["ioc-fleet"]
    assert grafana.dashboards["ioc-fleet"]["dashboard"] == wanted["ioc-fleet"]

    grafana.writes_left = None
    grafana.requests.clear()
    rerun = push(grafana)
    assert rerun.returncode == 0, rerun.stderr
    assert grafana.writes() == [("POST", "/api/dashboards/db")] * 3
    assert {uid: saved["dashboard"] for uid, saved in grafana.dashboards.items()} == wanted


def test_wrong_token_says_authentication_failed_and_never_echoes_it(
    grafana: FakeGrafana, push: Callable[..., Done]
) -> None:
    wrong = "wrong-token-9a7e4410"
    done = push(grafana, token=wrong)
    assert done.returncode == 1
    assert "authentication failed" in json.loads(done.stderr)["error"]
    assert wrong not in done.stdout + done.stderr
    assert grafana.folders == {} and grafana.writes() == []


def test_unreachable_grafana_fails_with_one_line(grafana: FakeGrafana, push: Callable[..., Done]) -> None:
    grafana.go_down("closed")
    done = push(grafana)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert f"Grafana at {grafana.url} is unreachable" in json.loads(line)["error"]
    assert grafana.token not in done.stderr


def test_push_without_a_token_in_the_environment_refuses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IOC_GRAFANA_TOKEN", raising=False)
    done = ioc(capsys, monkeypatch, "grafana", "push", "--url", "http://127.0.0.1:9")
    assert done.returncode == 1 and "IOC_GRAFANA_TOKEN is not set" in done.stderr
