"""A real PostgreSQL server (Debian's ``postgresql`` package) in a temp folder on a free loopback port.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system user the
package creates, from a folder that user owns.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass
class PostgresServer:
    process: ManagedProcess
    port: int
    folder: Path

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def execute(self, sql: str) -> None:
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    search = [str(p) for p in PG_BIN_DIRS]
    initdb = require_binary("initdb", "postgresql", search=search)
    postgres = require_binary("postgres", "postgresql", search=search)
    folder = Path(tempfile.mkdtemp(prefix="ioc-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data = folder / "data"
    argv = [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    subprocess.run(argv, check=True, capture_output=True)
    port = free_port()
    server = ManagedProcess(
        argv=[
            postgres,
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ],
        log_path=folder / "postgres.log",
        ready=lambda: _wait_accepting(port),
        user=user,
    )
    server.start()
    return PostgresServer(server, port, folder)


def _wait_accepting(port: int) -> None:
    wait_for_tcp(port)

    async def probe() -> None:
        for _ in range(100):
            try:
                conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.1)
        raise TimeoutError("postgres did not accept connections")

    asyncio.run(probe())
