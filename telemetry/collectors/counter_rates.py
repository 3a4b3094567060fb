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

from dataclasses import dataclass

WRAP32 = 2**32
SPEED_SLACK = 1.5


@dataclass(frozen=True, slots=True)
class CounterSample:
    value: int
    bits: int
    """32 or 64."""


@dataclass(frozen=True, slots=True)
class PollClock:
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


def per_second(
    prev: CounterSample | None,
    cur: CounterSample,
    prev_clock: PollClock | None,
    cur_clock: PollClock,
    *,
    scale: float = 1.0,
    max_rate: float | None = None,
) -> float | None:
    """Rate of ``cur`` since ``prev`` times ``scale`` (8 for octets -> bits), or None when unknowable.

    ``max_rate`` is the highest believable rate in scaled units (the link speed for bits/s).
    """
    if prev is None or prev_clock is None:
        return None
    elapsed = cur_clock.monotonic_s - prev_clock.monotonic_s
    if elapsed <= 0 or restarted(prev_clock, cur_clock):
        return None
    delta = counter_delta(prev, cur)
    if delta is None:
        return None
    rate = delta * scale / elapsed
    if max_rate:
        if rate > max_rate * SPEED_SLACK:
            return None
        if cur.bits == 32 and max_rate * elapsed / scale >= WRAP32:
            return None  # could have wrapped more than once since the last good sample
    return rate
