"""Half-open time intervals: merge, subtract, measure. The arithmetic under maintenance and SLA."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union; empty intervals dropped."""
    result: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``base`` minus ``holes``, both taken as unions."""
    cut = merge(holes)
    result: list[Interval] = []
    for start, end in merge(base):
        cursor = start
        for hole_start, hole_end in cut:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return merge((max(s, start), min(e, end)) for s, e in intervals)


def seconds(intervals: Iterable[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in merge(intervals))
