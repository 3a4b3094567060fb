"""Rate arithmetic, table-driven: wrap, restart, resets, missed polls, impossible speeds."""

from __future__ import annotations

import pytest

from telemetry.collectors.counter_rates import CounterSample, PollClock, elapsed_between, rate

W = 2**32


def per_second(
    prev: CounterSample | None,
    cur: CounterSample,
    prev_clock: PollClock | None,
    cur_clock: PollClock,
    *,
    scale: float = 1.0,
    max_rate: float | None = None,
) -> float | None:
    """How the SNMP collector composes the two: the gap once per device poll, then each counter's rate."""
    if prev_clock is None:
        return None
    elapsed = elapsed_between(prev_clock, cur_clock)
    if elapsed is None:
        return None
    return rate(prev, cur, elapsed, scale=scale, max_rate=max_rate)


@pytest.mark.parametrize(
    ("case", "prev", "cur", "prev_clock", "cur_clock", "max_rate", "expected"),
    [
        ("steady 32-bit", (1000, 32), (2000, 32), (0, 100), (10, 1100), None, 100.0),
        ("steady 64-bit", (10**15, 64), (10**15 + 500, 64), (0, 100), (5, 600), None, 100.0),
        ("32-bit wrap", (W - 300, 32), (700, 32), (0, 100), (10, 1100), None, 100.0),
        ("64-bit counter went down: reset, no rate", (5000, 64), (10, 64), (0, 100), (10, 1100), None, None),
        ("agent restarted: uptime went back", (W - 300, 32), (700, 32), (0, 50_000), (10, 900), None, None),
        (
            "restart with counter up is still no rate",
            (100, 32),
            (5000, 32),
            (0, 50_000),
            (10, 900),
            None,
            None,
        ),
        ("missed poll: divided by the real gap", (0, 32), (3000, 32), (0, 100), (30, 3100), None, 100.0),
        ("no uptime known: wall clock only", (0, 32), (500, 32), (0, None), (5, None), None, 100.0),
        ("HC column appeared: width changed", (1000, 32), (2000, 64), (0, 100), (10, 1100), None, None),
        ("no time passed", (0, 32), (10, 32), (5, 100), (5, 100), None, None),
        (
            "faster than the link: a disguised reset",
            (W - 10, 32),
            (W - 20, 32),
            (0, 100),
            (10, 1100),
            1000.0,
            None,
        ),
        ("within the link speed", (0, 32), (1000, 32), (0, 100), (10, 1100), 1000.0, 100.0),
        # 10 Gb/s link, 32-bit counter, 60 s gap: could have wrapped many times -> unknowable
        ("ambiguous multi-wrap after a long gap", (0, 32), (1000, 32), (0, 100), (60, 6100), 1e10, None),
    ],
)
def test_per_second(case, prev, cur, prev_clock, cur_clock, max_rate, expected) -> None:
    value = per_second(
        CounterSample(*prev),
        CounterSample(*cur),
        PollClock(*prev_clock),
        PollClock(*cur_clock),
        max_rate=max_rate,
    )
    assert value == (pytest.approx(expected) if expected is not None else None), case


def test_first_sample_has_no_rate() -> None:
    assert per_second(None, CounterSample(5, 32), None, PollClock(1, 1)) is None


def test_octets_scale_to_bits() -> None:
    value = per_second(
        CounterSample(0, 64), CounterSample(125, 64), PollClock(0, 0), PollClock(1, 100), scale=8
    )
    assert value == 1000.0
