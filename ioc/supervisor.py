"""Keep `ioc serve`'s services running: a service that fails is logged and restarted with capped
exponential backoff while its siblings carry on.

A plain ``asyncio.TaskGroup`` cancels every sibling when one task fails: one bad row that broke the
monitors' registry refresh used to take the API and the ingest down with it. Here each service runs
in its own loop; only cancellation (shutdown) stops them all. The state of each one is kept in a
:class:`ServiceState` that ``/api/v1/health`` reports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from device_registry.schemas.health import ServiceHealth, ServiceStatus

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Backoff:
    """Delay before restart n (1-based): ``initial_s * 2**(n-1)``, never more than ``max_s``. A service
    that then ran ``healthy_after_s`` without failing starts again from ``initial_s``."""

    initial_s: float = 1.0
    max_s: float = 60.0
    healthy_after_s: float = 60.0

    def delay(self, failures_in_a_row: int) -> float:
        return min(self.max_s, self.initial_s * 2 ** max(0, failures_in_a_row - 1))


@dataclass
class ServiceState:
    name: str
    status: ServiceStatus = ServiceStatus.STARTING
    restarts: int = 0
    last_error: str | None = None
    last_error_type: str | None = None
    next_restart_in_s: float | None = None
    _failures_in_a_row: int = field(default=0, repr=False)

    def health(self) -> ServiceHealth:
        return ServiceHealth(
            name=self.name,
            status=self.status,
            restarts=self.restarts,
            last_error=self.last_error,
            last_error_type=self.last_error_type,
            next_restart_in_s=self.next_restart_in_s,
        )


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


async def supervise(
    state: ServiceState,
    run: Callable[[], Awaitable[None]],
    backoff: Backoff,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run ``run`` until it returns (the service has nothing to do: ``stopped``) or this task is
    cancelled; restart it after each failure."""
    try:
        while True:
            state.status = ServiceStatus.RUNNING
            state.next_restart_in_s = None
            started = clock()
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if clock() - started >= backoff.healthy_after_s:
                    state._failures_in_a_row = 0
                state._failures_in_a_row += 1
                delay = backoff.delay(state._failures_in_a_row)
                state.status = ServiceStatus.RESTARTING
                state.last_error = _describe(error)
                state.last_error_type = type(error).__name__
                state.next_restart_in_s = delay
                log.error(
                    "service %s failed (%s); restarting in %.1f s",
                    state.name,
                    state.last_error,
                    delay,
                    exc_info=state._failures_in_a_row == 1,
                )
                await asyncio.sleep(delay)
                state.restarts += 1
                log.info("service %s: restart %d", state.name, state.restarts)
            else:
                state.status = ServiceStatus.STOPPED
                log.info("service %s finished", state.name)
                return
    finally:
        if state.status != ServiceStatus.STOPPED:
            state.status = ServiceStatus.STOPPED
            state.next_restart_in_s = None


async def run_supervised(
    services: Mapping[str, Callable[[], Awaitable[None]]],
    states: Mapping[str, ServiceState],
    backoff: Backoff,
) -> None:
    """Every service under its own supervisor, until all have stopped or this task is cancelled."""
    async with asyncio.TaskGroup() as group:
        for name, run in services.items():
            group.create_task(supervise(states[name], run, backoff), name=f"service:{name}")
