"""A real ``ioc serve --only api`` (uvicorn on a loopback port) over a seeded SQLite registry, with a
token per role: what a fuzzer or an attacker on the network talks to."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from device_registry.crypto import generate_key
from device_registry.db import create_engine, session_factory
from ioc.migrate import upgrade
from tests.registry.seed import World, build_world
from tests.support.process import ManagedProcess, free_port, wait_for_tcp

ID_OFFSET = 100_000
"""Seeded users and tokens are moved to ids a fuzzer's small integers do not hit, so a fuzzed
``DELETE /tokens/1`` or ``PATCH /users/2`` does not lock the other roles out mid-run."""


@dataclass
class LiveApi:
    base: str
    world: World
    db_path: Path
    server: ManagedProcess

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.tokens[who]}"} if who else {}


async def _seed(db_url: str) -> World:
    engine = create_engine(db_url)
    try:
        return await build_world(session_factory(engine))
    finally:
        await engine.dispose()


def _move_ids_out_of_reach(db_path: Path, world: World) -> None:
    with sqlite3.connect(db_path) as db:  # foreign keys are off in a bare sqlite3 connection
        db.execute("UPDATE api_tokens SET id = id + ?, user_id = user_id + ?", (ID_OFFSET, ID_OFFSET))
        db.execute("UPDATE users SET id = id + ?", (ID_OFFSET,))
    world.user_ids = {name: uid + ID_OFFSET for name, uid in world.user_ids.items()}


def start_live_api(folder: Path) -> LiveApi:
    db_path = folder / "registry.db"
    db_url = f"sqlite+aiosqlite:///{db_path}"
    upgrade(db_url)
    world = asyncio.run(_seed(db_url))
    _move_ids_out_of_reach(db_path, world)
    port = free_port()
    env = {
        "IOC_HOME": str(folder / "home"),
        "IOC_DATABASE_URL": db_url,
        "IOC_SECRET_KEY": generate_key().get_secret_value(),
        "IOC_LOG_LEVEL": "WARNING",
        # Probes go to loopback only (the fuzzer pins every target there); allow it, so the routes
        # get as far as the device's (absent) answer.
        "IOC_SNMP__ALLOWED_NETWORKS": "127.0.0.0/8",
        "IOC_ONVIF__ALLOWED_NETWORKS": "127.0.0.0/8",
        "IOC_MQTT__ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    env = {k: v for k, v in {**os.environ, **env}.items() if k != "IOC_MQTT_URL"}
    server = ManagedProcess(
        [sys.executable, "-m", "ioc", "serve", "--only", "api", "--port", str(port)],
        folder / "serve.log",
        ready=lambda: wait_for_tcp(port, timeout=60),
        env=env,
    )
    server.start()
    return LiveApi(f"http://127.0.0.1:{port}", world, db_path, server)
