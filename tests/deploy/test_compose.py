"""docker-compose.yml checked as far as a machine without a container engine can: Debian's docker-compose
parses and interpolates it, and the resolved configuration is read for what the stack relies on. Images are
neither pulled nor built and no container starts here (README, "Deployment")."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ioc.settings import Settings
from tests.support.process import require_binary

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"


def compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = require_binary("docker-compose", "docker-compose")
    return subprocess.run(
        [
            binary,
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "--env-file",
            str(env_file),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},  # nothing from the caller's environment fills a variable
        check=False,
    )


def example_variables() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^\w+=", line))
    return dict(pairs)


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = compose(ENV_EXAMPLE, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid_with_the_example_env() -> None:
    result = compose(ENV_EXAMPLE, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", [n for n in example_variables() if n != "PUBLISH_ADDRESS"])
def test_every_secret_is_required(name: str, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in example_variables().items() if k != name))
    result = compose(env, "config", "-q")
    assert result.returncode != 0
    assert f"set {name} in .env" in result.stderr


def test_platform_waits_for_healthy_dependencies(resolved: dict) -> None:
    services = resolved["services"]
    assert set(services) == {"postgres", "influxdb", "ioc-init", "mosquitto", "ioc", "grafana"}
    long_running = [name for name in services if name != "ioc-init"]
    for name in long_running:
        assert services[name]["healthcheck"]["test"], name
    assert services["ioc"]["depends_on"] == {
        "ioc-init": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "influxdb": {"condition": "service_healthy"},
        "mosquitto": {"condition": "service_healthy"},
    }
    assert services["grafana"]["depends_on"] == {"influxdb": {"condition": "service_healthy"}}
    assert services["mosquitto"]["depends_on"] == {
        "ioc-init": {"condition": "service_completed_successfully"}
    }


def test_published_ports_default_to_loopback(resolved: dict) -> None:
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_platform_environment_is_accepted_by_the_typed_settings(
    resolved: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The IOC_* variables the stack hands the platform parse as its settings, with no typo'd name."""
    env = resolved["services"]["ioc"]["environment"]
    assert env == resolved["services"]["ioc-init"]["environment"]
    for key, value in env.items():
        assert key.startswith("IOC_"), key
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.database_url is not None and settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.mqtt_url is not None and settings.mqtt_url.host == "mosquitto"
    assert settings.influx_url == "http://influxdb:8086" and settings.influx_database == "ioc"
    assert settings.influx_password is not None
    known = {f"IOC_{name.upper()}" for name in Settings.model_fields}
    assert {key for key in env if key.count("__") == 0} <= known


def test_dockerfile_copies_only_what_exists() -> None:
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
