"""The CPU time one coroutine spends in its own steps, while other tasks run beside it.

Why: the SNMP collector chooses between two ways of reading a device by what each costs this process
(docs/snmp.md, "Walk or GET"), but with hundreds of polls interleaved on one event loop, neither the
wall time of a poll (mostly waiting for the agent) nor the process's CPU time (every task's) says
what one poll cost. :func:`metered` drives the coroutine itself and adds up the thread CPU time of
each of its steps, from being resumed to its next suspension: everything it runs synchronously
(encoding, ``sendto``, decoding, storing values), nothing it waits for. Not counted: the event
loop's own work for it (receiving its datagrams, waking it), which is the same per request either way.

Reading the thread clock is a system call (~2 µs), so callers meter only the polls they measure.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


class CpuMeter:
    """Accumulates thread CPU seconds of the coroutines run through :meth:`run`."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def run(self, coroutine: Coroutine[Any, Any, T]) -> Awaitable[T]:
        return _Metered(coroutine, self)


class _Metered(Awaitable[T]):
    def __init__(self, coroutine: Coroutine[Any, Any, T], meter: CpuMeter) -> None:
        self._coroutine = coroutine
        self._meter = meter

    def __await__(self) -> Generator[Any, Any, T]:
        coroutine, meter, clock = self._coroutine, self._meter, time.thread_time
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            started = clock()
            try:
                step = coroutine.send(sent) if thrown is None else coroutine.throw(thrown)
            except StopIteration as done:
                meter.seconds += clock() - started
                return done.value
            except BaseException:
                meter.seconds += clock() - started
                raise
            meter.seconds += clock() - started
            try:
                sent, thrown = (yield step), None
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # e.g. CancelledError: handed to the coroutine
                sent, thrown = None, error
