"""One real ``ioc serve --only api --only monitors`` for the whole security area, on a free loopback port, for the attacks.

Each attack is the request a scoped user or an anonymous client would send, over a real socket to the
real uvicorn server; the tests then check the refusal, that nothing was written (read straight from the
SQLite file) and that the server still answers ``/api/v1/health``.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.process import ManagedProcess, free_port, wait_for_tcp

IOC = [sys.executable, "-m", "ioc"]
_names = itertools.count(1)


@dataclass
class Live:
    base: str
    home: Path
    server: ManagedProcess
    admin: str
    env: dict[str, str]
    log_path: Path
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.home / "registry.db"

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    def as_admin(self) -> httpx.Client:
        return self.client(self.admin)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read or write the database file directly, as an attacker with a shell (or a bad migration) would."""
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(query, params).fetchall()

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT count(*) FROM {table}")[0][0])

    def healthy(self) -> bool:
        return (
            self.server.running
            and httpx.get(f"{self.base}/api/v1/health", timeout=30).json()["status"] == "ok"
        )

    def rss_kib(self) -> int:
        assert self.server.process is not None
        for line in Path(f"/proc/{self.server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ioc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*IOC, *args], capture_output=True, text=True, env=self.env, timeout=120)

    def site(self, code: str, parent: str | None = None, kind: str = "commune") -> int:
        with self.as_admin() as c:
            body = {"code": code, "name": f"Site {code}", "kind": kind, "parent_code": parent}
            response = c.post("/api/v1/sites", json=body)
        assert response.status_code == 201, response.text
        self.ids[code] = response.json()["id"]
        return self.ids[code]

    def user(self, role: str, scope: str | None = None) -> tuple[int, str]:
        """A new user and a token for them (issued by the admin through the API)."""
        name = f"{role}-{next(_names)}"
        with self.as_admin() as c:
            created = c.post("/api/v1/users", json={"username": name, "role": role, "scope_site_code": scope})
            assert created.status_code == 201, created.text
            user_id = created.json()["id"]
            token = c.post(f"/api/v1/users/{user_id}/tokens", json={"name": "test"})
            assert token.status_code == 201, token.text
        return user_id, token.json()["token"]


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    home = folder / "home"
    env = {**os.environ, "IOC_HOME": str(home), "IOC_MONITORS__REGISTRY_REFRESH_S": "0.3"}
    for name in (
        "IOC_DATABASE_URL",
        "IOC_SNMP__ALLOWED_NETWORKS",
        "IOC_ONVIF__ALLOWED_NETWORKS",
        "IOC_CONFIG",
    ):
        env.pop(name, None)
    init = subprocess.run([*IOC, "--json", "init"], env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    port = free_port()
    server = ManagedProcess(
        [*IOC, "serve", "--only", "api", "--only", "monitors", "--port", str(port)],
        folder / "serve.log",
        ready=lambda: wait_for_tcp(port, timeout=90),
        env=env,
    )
    server.start()
    try:
        yield Live(
            f"http://127.0.0.1:{port}",
            home,
            server,
            json.loads(init.stdout)["token"],
            env,
            folder / "serve.log",
        )
    finally:
        server.stop()
