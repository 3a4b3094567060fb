"""Encode :class:`~telemetry.points.Point` to InfluxDB line protocol, rejecting what no server stores.

Validation happens here, at ``write()`` time, because a point that can never be stored must fail in the
caller's hands (with the point and field named) instead of sitting in the spool and bouncing off the
server later. What only the server can judge (field type conflicts, retention windows) is quarantined by
the delivery loop with the server's reason.

Escaping follows the line protocol reference: measurement escapes commas and spaces; tag keys, tag values
and field keys escape commas, equals signs and spaces; string field values escape double quotes and
backslashes. Newlines cannot be escaped in names or tags at all, so they are rejected.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telemetry.points import Point

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_STRING_FIELD_BYTES = 64 * 1024
"""InfluxDB 1.x refuses string fields above 64 KiB; refusing them here keeps them out of the spool."""

_NS_PER_DAY = 86_400 * 1_000_000_000

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


class InvalidPoint(ValueError):
    """A point that can never be stored; names the point (its index in the call) and the field."""

    def __init__(self, index: int, point: Point, field: str, reason: str) -> None:
        self.index = index
        self.point = point
        self.field = field
        self.reason = reason
        super().__init__(
            f"point #{index} (measurement {point.measurement!r}, tags {dict(point.tags)!r}): "
            f"{field}: {reason}"
        )


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Timestamps outside ``[now - max_past, now + max_future]`` are treated as a broken clock.

    A device whose RTC lost power reports 1970 or 2000; a point stamped next year overwrites nothing
    useful and hides in dashboards. Either is refused rather than silently stored.
    """

    max_past_ns: int = 5 * 366 * _NS_PER_DAY
    max_future_ns: int = 1 * _NS_PER_DAY

    def bounds(self, now_ns: int | None = None) -> tuple[int, int]:
        now = time.time_ns() if now_ns is None else now_ns
        return now - self.max_past_ns, now + self.max_future_ns


def _check_name(index: int, point: Point, what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidPoint(index, point, what, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidPoint(index, point, what, "must not be empty")
    if "\n" in value or "\r" in value:
        raise InvalidPoint(index, point, what, "must not contain a newline")
    if value.endswith("\\"):
        # A trailing backslash would escape the separator that follows it.
        raise InvalidPoint(index, point, what, "must not end with a backslash")
    return value


def _encode_field_value(index: int, point: Point, key: str, value: object) -> str:
    where = f"field {key!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidPoint(index, point, where, f"integer {value} does not fit in 64 bits")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidPoint(index, point, where, f"{value} is not storable (NaN and Inf are refused)")
        return repr(value)
    if isinstance(value, str):
        if len(value.encode()) > MAX_STRING_FIELD_BYTES:
            raise InvalidPoint(index, point, where, f"string longer than {MAX_STRING_FIELD_BYTES} bytes")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise InvalidPoint(index, point, where, f"unsupported type {type(value).__name__}")


def encode_point(point: Point, *, index: int = 0, bounds: tuple[int, int] | None = None) -> str:
    """One line (no trailing newline). Raises :class:`InvalidPoint` naming what is wrong.

    Tags with an empty value are left out, as InfluxDB's own clients do: the line protocol cannot carry
    them and "no value" is what an empty tag means.
    """
    measurement = _check_name(index, point, "measurement", point.measurement)
    if measurement.startswith("#"):
        raise InvalidPoint(index, point, "measurement", "must not start with '#' (a comment line)")
    parts = [measurement.translate(_MEASUREMENT_ESCAPES)]
    for key in sorted(point.tags):
        value = point.tags[key]
        _check_name(index, point, f"tag key {key!r}", key)
        if key == "time":
            raise InvalidPoint(index, point, "tag key 'time'", "is reserved by InfluxDB")
        if not isinstance(value, str):
            raise InvalidPoint(index, point, f"tag {key!r}", f"value must be a string, not {type(value)}")
        if value == "":
            continue
        _check_name(index, point, f"tag {key!r} value", value)
        parts.append(f",{key.translate(_KEY_ESCAPES)}={value.translate(_KEY_ESCAPES)}")
    if not point.fields:
        raise InvalidPoint(index, point, "fields", "a point needs at least one field")
    fields = []
    for key in sorted(point.fields):
        _check_name(index, point, f"field key {key!r}", key)
        if key == "time":
            raise InvalidPoint(index, point, "field key 'time'", "is reserved by InfluxDB")
        encoded = _encode_field_value(index, point, key, point.fields[key])
        fields.append(f"{key.translate(_KEY_ESCAPES)}={encoded}")
    timestamp = point.time_ns
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise InvalidPoint(index, point, "time_ns", f"must be an int (ns since epoch), got {timestamp!r}")
    if bounds is not None and not bounds[0] <= timestamp <= bounds[1]:
        raise InvalidPoint(
            index, point, "time_ns", f"{timestamp} is outside the accepted window {bounds[0]}..{bounds[1]}"
        )
    return "".join(parts) + " " + ",".join(fields) + f" {timestamp}"


def encode_points(points: Sequence[Point], window: TimeWindow | None = None) -> list[bytes]:
    """Encode every point or none: the first invalid one raises, so nothing is half-written."""
    bounds = (window or TimeWindow()).bounds()
    return [encode_point(p, index=i, bounds=bounds).encode() for i, p in enumerate(points)]


def join_lines(lines: Iterable[bytes]) -> bytes:
    return b"\n".join(lines)
