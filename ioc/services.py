"""The services `ioc serve` can run in one process; ``--only NAME`` runs one alone to scale out.

Each entry is an async callable that runs until cancelled. Later issues register the MQTT ingest,
collectors and the scheduler here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

from ioc.settings import Settings

Service = Callable[[Settings], Coroutine[Any, Any, None]]


async def api_service(settings: Settings) -> None:
    from ioc.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api.host,
        port=settings.api.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


SERVICES: dict[str, Service] = {"api": api_service}


async def run_services(settings: Settings, names: list[str]) -> None:
    """Run the named services as sibling tasks; when one ends or fails, the others are cancelled."""
    async with asyncio.TaskGroup() as group:
        for name in names:
            group.create_task(SERVICES[name](settings), name=f"service:{name}")
