"""Bounded waits for an event, instead of sleeping for a window and hoping it happened.

A test that sleeps 0.5 s "so the broker has the subscription" is slow when the machine is idle and
flaky when it is loaded. These helpers poll a predicate until it holds, up to a bound, and a timeout
names what was awaited, so a failure reads as "the ingest's 3 subscriptions: not within 20 s".
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

POLL_S = 0.02
"""How often a predicate is asked: cheap predicates (a counter, a small file) make 20 ms affordable."""

Detail = Callable[[], object] | None


def _timeout(what: str, within: float, detail: Detail) -> TimeoutError:
    message = f"{what}: not within {within:g} s"
    if detail is not None:
        message += f"\n{detail()}"
    return TimeoutError(message)


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    within: float,
    what: str,
    *,
    detail: Detail = None,
    every: float = POLL_S,
) -> None:
    """Return once ``predicate()`` (plain or async) is true; raise ``TimeoutError`` naming ``what``,
    plus ``detail()`` (a log tail, a counter) when given, once ``within`` seconds passed."""
    deadline = time.monotonic() + within
    while True:
        outcome = predicate()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise _timeout(what, within, detail)
        await asyncio.sleep(every)


def wait_until_sync(
    predicate: Callable[[], bool], within: float, what: str, *, detail: Detail = None, every: float = POLL_S
) -> None:
    """:func:`wait_until` for code outside an event loop (a ``ManagedProcess`` readiness check)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise _timeout(what, within, detail)
        time.sleep(every)


async def next_second() -> None:
    """Until the wall clock's whole second changes: a point written after this is in a later second
    than any written before (InfluxDB rates over ``GROUP BY time(1s)`` need two). At most 1 s, half on
    average, where a fixed ``sleep(1.1)`` always costs 1.1 s."""
    start = int(time.time())
    while int(time.time()) == start:  # noqa: ASYNC110 - the clock offers no event
        await asyncio.sleep(start + 1 - time.time() + 0.001)
