"""How many SNMP requests may be in flight: AIMD windows per agent address and overall.

Why: a fixed concurrency that suits an idle agent overloads a busy one. Its queue grows, answers come
after the timeout, the requests are sent again and the queue grows further (the overload spiral:
5, then 85, then 136 of 200 devices lost over three cycles in the measurement that led here). Like TCP,
each window grows by one request per window's worth of answers (additive increase) and halves on a
timeout (multiplicative decrease), at most once per window: only a request sent after the last cut
can cut again, so one burst of late answers costs one halving, not twenty.

One :class:`Pacer` is shared by every request a poller sends: a request first takes a slot at its
agent (``host:port``; many devices behind one address share it), then one of the overall window,
whose ceiling is the ~100 answers in flight a small host's UDP receive buffer holds.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


class AimdWindow:
    """An asyncio semaphore whose size moves between ``minimum`` and ``maximum`` (AIMD)."""

    def __init__(self, initial: float, *, minimum: float = 1.0, maximum: float = 100.0) -> None:
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError("window: need 1 <= minimum <= initial <= maximum")
        self.limit = float(initial)
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.in_flight = 0
        self.cuts = 0
        self.answers = 0
        self._last_cut = float("-inf")
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self.in_flight < int(self.limit) and not self._waiters:
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # granted, then cancelled before use: hand the slot on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self, sent_at: float, *, timed_out: bool) -> None:
        self.in_flight -= 1
        if timed_out:
            if sent_at > self._last_cut:
                self.limit = max(self.minimum, self.limit / 2)
                self._last_cut = time.monotonic()
                self.cuts += 1
        else:
            self.answers += 1
            self.limit = min(self.maximum, self.limit + 1 / self.limit)
        self._wake()

    def give_back(self) -> None:
        """Return a slot that was never used for a request (no AIMD step)."""
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


@dataclass(slots=True)
class Ticket:
    """One granted request slot; say :meth:`timed_out` before leaving the ``with`` block if it did."""

    sent_at: float
    timeout: bool = False

    def timed_out(self) -> None:
        self.timeout = True


class Pacer:
    """AIMD windows per agent address and one overall; see the module docstring."""

    def __init__(
        self,
        *,
        total_max: int = 100,
        total_initial: int = 32,
        agent_initial: int = 8,
        agent_max: int = 64,
    ) -> None:
        self.total = AimdWindow(min(total_initial, total_max), maximum=total_max)
        self._agent_initial = agent_initial
        self._agent_max = agent_max
        self.agents: dict[tuple[str, int], AimdWindow] = {}

    def agent(self, address: tuple[str, int]) -> AimdWindow:
        window = self.agents.get(address)
        if window is None:
            window = self.agents[address] = AimdWindow(
                min(self._agent_initial, self._agent_max), maximum=self._agent_max
            )
        return window

    @asynccontextmanager
    async def slot(self, address: tuple[str, int]) -> AsyncIterator[Ticket]:
        agent = self.agent(address)
        await agent.acquire()
        try:
            await self.total.acquire()
        except BaseException:
            agent.give_back()
            raise
        ticket = Ticket(time.monotonic())
        try:
            yield ticket
        finally:
            # A silent address (a dead device) says nothing about our own load: only timeouts of
            # agents that have answered before shrink the overall window.
            overloaded = ticket.timeout and agent.answers > 0
            self.total.release(ticket.sent_at, timed_out=overloaded)
            agent.release(ticket.sent_at, timed_out=ticket.timeout)
