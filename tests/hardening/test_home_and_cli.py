"""What a local user on the same machine, or a shoulder-surfer reading a terminal or a CI log, could
get before issue 14: a world-readable IOC_HOME and database, and the database password in print."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.support.postgres import PostgresServer

PASSWORD = "Mat-khau-s3cret"


def _ioc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    def loose_umask() -> None:
        os.umask(0o022)  # the common default: files 0644, folders 0755 unless we say otherwise

    return subprocess.run(
        [sys.executable, "-m", "ioc", *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=loose_umask,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_home_and_database_private_and_warns_on_a_readable_key(tmp_path: Path):
    home = tmp_path / "home"
    env = {**os.environ, "IOC_HOME": str(home)}
    env.pop("IOC_DATABASE_URL", None)
    init = _ioc("--json", "init", env=env)
    assert init.returncode == 0, init.stderr
    assert _mode(home) == 0o700
    assert _mode(home / "registry.db") == 0o600
    assert _mode(home / "secret.key") == 0o600
    assert "readable by group or others" not in init.stderr

    # Someone loosened them: the next start tightens home and database, and warns about the key.
    home.chmod(0o755)
    (home / "registry.db").chmod(0o644)
    (home / "secret.key").chmod(0o644)
    again = _ioc("--json", "init", env=env)
    assert again.returncode == 0, again.stderr
    assert _mode(home) == 0o700 and _mode(home / "registry.db") == 0o600
    assert "secret key file" in again.stderr and "chmod 600" in again.stderr
    assert (home / "secret.key").read_text().strip() not in again.stderr + again.stdout


def test_init_and_migrate_never_print_the_database_password(tmp_path: Path, postgres: PostgresServer):
    import asyncio

    asyncio.run(postgres.execute("CREATE DATABASE ioc_print"))
    url = postgres.url("ioc_print").replace("postgres@", f"postgres:{PASSWORD}@")
    env = {**os.environ, "IOC_HOME": str(tmp_path / "home"), "IOC_DATABASE_URL": url}
    for args in (("init",), ("--json", "migrate")):
        done = _ioc(*args, env=env)
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr, args
        assert f"127.0.0.1:{postgres.port}/ioc_print" in done.stdout  # still says which database
    shown = json.loads(done.stdout)["database"]
    assert shown == f"postgresql+asyncpg://postgres:***@127.0.0.1:{postgres.port}/ioc_print"


def test_a_service_user_name_cannot_write_lines_into_the_broker_acl(tmp_path: Path):
    """The attack: a user name with a newline and an ACL rule in IOC_MQTT_URL (``%0A`` decodes to a
    newline), or a digits-only name that the ``%u`` patterns would treat as a device."""
    home = tmp_path / "home"
    env = {**os.environ, "IOC_HOME": str(home)}
    assert _ioc("init", env=env).returncode == 0
    acl = home / "mosquitto" / "acl"
    for username in ("svc%0Atopic%20readwrite%20%23", "42"):
        env["IOC_MQTT_URL"] = f"mqtt://{username}:pw@127.0.0.1:1883"
        refused = _ioc("mqtt", "broker-config", env=env)
        assert refused.returncode != 0
        assert "IOC_MQTT_URL" in refused.stderr and "service user name" in refused.stderr
        written = acl.read_text() if acl.exists() else ""
        assert "readwrite" not in written and "\nuser " not in written, written
    env["IOC_MQTT_URL"] = "mqtt://ioc-ingest:pw@127.0.0.1:1883"
    synced = _ioc("mqtt", "broker-config", env=env)
    assert synced.returncode == 0, synced.stderr
    assert "user ioc-ingest\n" in acl.read_text() and "readwrite #" not in acl.read_text()


def _probe(
    target: str, *options: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ioc", "--json", "probe", "snmp", target, *options]
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)


def test_snmp_secrets_come_from_a_prompt_or_the_environment_not_argv(tmp_path: Path, snmpd):
    """Against net-snmp's snmpd: the community and v3 keys reach the probe through stdin (``-``) or
    IOC_SNMP_*; argv holds no secret."""
    from tests.support.snmpd import V3_AUTH, V3_PRIV, V3_USER

    env = {**os.environ, "IOC_HOME": str(tmp_path / "home"), "IOC_SNMP__ALLOWED_NETWORKS": "127.0.0.0/8"}
    target = f"127.0.0.1:{snmpd.port}"
    prompted = _probe(target, "--community", "-", env=env, stdin="public\n")
    assert prompted.returncode == 0, prompted.stderr
    assert json.loads(prompted.stdout)["sys_name"] == "snmpd-under-test"
    assert "public" not in prompted.stdout + prompted.stderr

    keys = {"IOC_SNMP_AUTH_KEY": V3_AUTH, "IOC_SNMP_PRIV_KEY": V3_PRIV}
    v3 = _probe(target, "--v3-user", V3_USER, "--auth-proto", "SHA", "--priv-proto", "AES", env=env | keys)
    assert v3.returncode == 0, v3.stderr
    assert json.loads(v3.stdout)["sys_name"] == "snmpd-under-test"

    options = ("--community", "-", "--timeout", "0.3", "--retries", "0")
    wrong = _probe(target, *options, env=env, stdin="not-the-community\n")
    assert wrong.returncode != 0 and "not-the-community" not in wrong.stderr + wrong.stdout
