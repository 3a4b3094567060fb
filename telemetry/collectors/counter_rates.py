"""Per-second rates from SNMP counters, correct across 32-bit wrap, agent restart and missed polls.

Kept apart from the collector so the arithmetic is tested table-driven, without an agent.

The rules, in order:
* no previous sample, or the counter changed width (HC column appeared/vanished) -> no rate;
* the agent restarted (sysUpTime went backwards) -> no rate: counters restarted from 0, so a
  "delta" would be a spike or negative;
* a 64-bit counter that went down -> no rate (reset; 64-bit counters do not wrap in practice);
* a 32-bit counter that went down -> one wrap: ``cur + 2**32 - prev``;
* a rate above the link speed (x1.5 slack) is dropped: it means the guess "one wrap" was wrong
  (e.g. a line card reset its counters without the agent restarting);
* after missed polls the delta is divided by the real elapsed time, unless a 32-bit counter could
  have wrapped more than once at the link speed in that time, which makes the delta ambiguous.
"""

from __future__ import annotations

from typing import NamedTuple

WRAP32 = 2**32
SPEED_SLACK = 1.5


class CounterSample(NamedTuple):
    """One counter reading (a tuple: the collector keeps hundreds per device poll)."""

    value: int
    bits: int
    """32 or 64."""


class PollClock(NamedTuple):
    """When a sample was taken: our monotonic clock (seconds) and the agent's sysUpTime (ticks)."""

    monotonic_s: float
    uptime_ticks: int | None


def restarted(prev: PollClock, cur: PollClock) -> bool:
    return (
        prev.uptime_ticks is not None
        and cur.uptime_ticks is not None
        and cur.uptime_ticks < prev.uptime_ticks
    )


def counter_delta(prev: CounterSample, cur: CounterSample) -> int | None:
    if prev.bits != cur.bits:
        return None
    if cur.value >= prev.value:
        return cur.value - prev.value
    if cur.bits == 32 and prev.value < WRAP32:
        return cur.value + WRAP32 - prev.value
    return None


def elapsed_between(prev_clock: PollClock, cur_clock: PollClock) -> float | None:
    """Seconds between two polls, or None when no counter of that device can give a rate this poll
    (our clock did not advance, or the agent restarted). Computed once per device poll."""
    elapsed = cur_clock.monotonic_s - prev_clock.monotonic_s
    if elapsed <= 0 or restarted(prev_clock, cur_clock):
        return None
    return elapsed


def rate(
    prev: CounterSample | None,
    cur: CounterSample,
    elapsed: float,
    *,
    scale: float = 1.0,
    max_rate: float | None = None,
) -> float | None:
    """Rate of ``cur`` since ``prev`` over ``elapsed`` seconds (from :func:`elapsed_between`)."""
    if prev is None:
        return None
    delta = counter_delta(prev, cur)
    if delta is None:
        return None
    value = delta * scale / elapsed
    if max_rate:
        if value > max_rate * SPEED_SLACK:
            return None
        if cur.bits == 32 and max_rate * elapsed / scale >= WRAP32:
            return None  # could have wrapped more than once since the last good sample
    return value
