r"""Encode :class:`~telemetry.points.Point` to InfluxDB line protocol, rejecting what no server stores.

Validation happens here, at ``write()`` time, because a point that can never be stored must fail in the
caller's hands (with the point and field named) instead of sitting in the spool and bouncing off the
server later. What only the server can judge (field type conflicts, retention windows) is quarantined by
the delivery loop with the server's reason.

Escaping follows the line protocol reference: measurement escapes commas and spaces; tag keys, tag values
and field keys escape commas, equals signs and spaces; string field values escape double quotes and
backslashes. Newlines cannot be escaped in names or tags at all, so they are rejected.

Backslashes in names and tags depend on the server's parser (:class:`Dialect`), measured here against the
real servers (``tests/telemetry/test_line_protocol.py``):

- InfluxDB 1.x (and 2.x, same ``models`` parser) treats a separator as escaped when the byte before it is a
  backslash, and never turns ``\\`` back into one backslash. A name is therefore written as is: ``Gi0/1\,x=y``
  becomes ``Gi0/1\\,x\=y`` and reads back exactly; doubling the backslash would store two.
- VictoriaMetrics and InfluxDB 3.x count backslashes: ``\\`` is one literal backslash and the separator after
  it is live, so the same bytes there would end the tag early and forge what follows. For them every
  backslash is doubled.
"""

from __future__ import annotations

import enum
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


class Dialect(enum.Enum):
    PREVIOUS_BYTE = "previous-byte"
    """InfluxDB 1.x/2.x: a separator preceded by a backslash is escaped; backslashes are kept verbatim."""
    BACKSLASH_PAIRS = "backslash-pairs"
    """VictoriaMetrics, InfluxDB 3.x: ``\\`` is one backslash, so every backslash is doubled."""


_ESCAPE_TABLES = {
    Dialect.PREVIOUS_BYTE: (
        str.maketrans({",": r"\,", " ": r"\ "}),
        str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "}),
    ),
    Dialect.BACKSLASH_PAIRS: (
        str.maketrans({",": r"\,", " ": r"\ ", "\\": "\\\\"}),
        str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\"}),
    ),
}


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


_CACHE_LIMIT = 100_000


class _Escaped:
    """Validated, escaped names and tag pairs, remembered: collectors repeat them on every poll.

    Validation and escaping of a tag like ``site=Phường Vĩnh Ninh`` happens once instead of per point,
    which more than halves the encoder's cost. Bounded: cleared wholesale when it grows too large.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.measurement_escapes, self.key_escapes = _ESCAPE_TABLES[dialect]
        self.measurements: dict[str, str] = {}
        self.tags: dict[tuple[str, str], str] = {}
        self.field_keys: dict[str, str] = {}
        self.series: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}

    def trim(self) -> None:
        for table in (self.measurements, self.tags, self.field_keys, self.series):
            if len(table) > _CACHE_LIMIT:
                table.clear()


_CACHES = {dialect: _Escaped(dialect) for dialect in Dialect}


def _measurement(index: int, point: Point, cache: _Escaped) -> str:
    try:
        cached = cache.measurements.get(point.measurement)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    measurement = _check_name(index, point, "measurement", point.measurement)
    if measurement.startswith("#"):
        raise InvalidPoint(index, point, "measurement", "must not start with '#' (a comment line)")
    escaped = cache.measurements[measurement] = measurement.translate(cache.measurement_escapes)
    return escaped


def _tag(index: int, point: Point, key: str, value: str, cache: _Escaped) -> str:
    try:
        cached = cache.tags.get((key, value))
    except TypeError:  # an unhashable value: let validation below name it
        cached = None
    if cached is not None:
        return cached
    _check_name(index, point, f"tag key {key!r}", key)
    if key == "time":
        raise InvalidPoint(index, point, "tag key 'time'", "is reserved by InfluxDB")
    if not isinstance(value, str):
        raise InvalidPoint(index, point, f"tag {key!r}", f"value must be a string, not {type(value)}")
    if value == "":
        escaped = ""
    else:
        _check_name(index, point, f"tag {key!r} value", value)
        table = cache.key_escapes
        escaped = f",{key.translate(table)}={value.translate(table)}"
    cache.tags[(key, value)] = escaped
    return escaped


def _field_key(index: int, point: Point, key: str, cache: _Escaped) -> str:
    cached = cache.field_keys.get(key)
    if cached is not None:
        return cached
    _check_name(index, point, f"field key {key!r}", key)
    if key == "time":
        raise InvalidPoint(index, point, "field key 'time'", "is reserved by InfluxDB")
    escaped = cache.field_keys[key] = key.translate(cache.key_escapes) + "="
    return escaped


def encode_point(
    point: Point,
    *,
    index: int = 0,
    bounds: tuple[int, int] | None = None,
    dialect: Dialect = Dialect.PREVIOUS_BYTE,
) -> str:
    """One line (no trailing newline). Raises :class:`InvalidPoint` naming what is wrong.

    Tags with an empty value are left out, as InfluxDB's own clients do: the line protocol cannot carry
    them and "no value" is what an empty tag means.
    """
    cache = _CACHES[dialect]
    tags = point.tags
    try:
        # Insertion order, not sorted: a differently ordered but equal tag set just gets its own
        # cache entry with the same (sorted) value, and the hot path skips a sort.
        series = (point.measurement, tuple(tags.items()))
        head = cache.series.get(series)
    except TypeError:  # unhashable or unsortable names: the slow path below names the culprit
        series, head = None, None
    if head is None:
        head = _measurement(index, point, cache)
        if tags:
            head += "".join([_tag(index, point, key, tags[key], cache) for key in sorted(tags)])
        if series is not None:
            cache.series[series] = head
    fields = point.fields
    if not fields:
        raise InvalidPoint(index, point, "fields", "a point needs at least one field")
    encoded = []
    field_keys = cache.field_keys
    for key, value in fields.items():  # field order carries no meaning in line protocol
        kind = type(value)
        if kind is float and math.isfinite(value):  # type: ignore[arg-type]
            text = repr(value)
        elif kind is int and INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
            text = f"{value}i"
        else:
            text = _encode_field_value(index, point, key, value)
        encoded.append((field_keys.get(key) or _field_key(index, point, key, cache)) + text)
    timestamp = point.time_ns
    if type(timestamp) is not int:
        raise InvalidPoint(index, point, "time_ns", f"must be an int (ns since epoch), got {timestamp!r}")
    if bounds is not None and not bounds[0] <= timestamp <= bounds[1]:
        raise InvalidPoint(
            index, point, "time_ns", f"{timestamp} is outside the accepted window {bounds[0]}..{bounds[1]}"
        )
    return f"{head} {','.join(encoded)} {timestamp}"


def encode_points(
    points: Sequence[Point], window: TimeWindow | None = None, dialect: Dialect = Dialect.PREVIOUS_BYTE
) -> list[bytes]:
    """Encode every point or none: the first invalid one raises, so nothing is half-written."""
    bounds = (window or TimeWindow()).bounds()
    _CACHES[dialect].trim()
    return [encode_point(p, index=i, bounds=bounds, dialect=dialect).encode() for i, p in enumerate(points)]


def join_lines(lines: Iterable[bytes]) -> bytes:
    return b"\n".join(lines)
