"""The services `ioc serve` can run in one process; ``--only NAME`` runs one alone to scale out.

Each entry is an async callable that runs until cancelled, given the process's :class:`Platform`
(database pool, secret box, the started telemetry writer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

from ioc.runtime import Platform
from ioc.settings import Settings

Service = Callable[[Platform], Coroutine[Any, Any, None]]


async def api_service(platform: Platform) -> None:
    from ioc.app import create_app

    settings = platform.settings
    config = uvicorn.Config(
        create_app(platform=platform),
        host=settings.api.host,
        port=settings.api.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


SERVICES: dict[str, Service] = {"api": api_service}


async def run_services(settings: Settings, names: list[str]) -> None:
    """Open the platform, start the telemetry writer, run the named services as sibling tasks; when one
    ends or fails the others are cancelled, and the writer drains what it can before the process exits."""
    platform = Platform.open(settings)
    try:
        await platform.start_writer()
        async with asyncio.TaskGroup() as group:
            for name in names:
                group.create_task(SERVICES[name](platform), name=f"service:{name}")
    finally:
        await platform.close()
