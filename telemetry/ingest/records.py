"""What parsing produces: resolved SenML records, or a typed rejection with a reason.

Both payload formats resolve to the same :class:`ResolvedRecord` (RFC 8428 section 4.6: base values
applied, absolute time), so MQTT ingest and ``ioc telemetry import`` share one path to points.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from device_registry.tags import TAG_KEYS
from telemetry.points import Point

MEASUREMENT = "sensor"
"""One measurement for all sensor readings. Co-sampled values share one point, a field per name
(:func:`sensor_points`); a record that cannot join one keeps the narrow shape: tags ``name`` and
``unit``, the value kind as the field."""

NARROW_FIELDS = frozenset({"v", "vs", "vb", "vd", "s"})
UNIT_TAG_PREFIX = "unit_"
SUM_SUFFIX = "_sum"
_RESERVED_KEYS = NARROW_FIELDS | {"time", "name", "unit"} | set(TAG_KEYS)
"""Never a wide field or unit tag key: keeps the two shapes' keys apart, InfluxDB's ``time`` out, and
the device tags' keys out even where a device lacks one (no ``district`` after the 2025 reform), so a
name is wide or narrow the same way for every device."""


class RejectReason(enum.StrEnum):
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    SCHEMA = "schema"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    BAD_NAME = "bad_name"
    UNKNOWN_UNIT = "unknown_unit"
    MUST_UNDERSTAND = "must_understand"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    IDENTITY_MISMATCH = "identity_mismatch"
    STORE_REFUSED = "store_refused"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: RejectReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


@dataclass(slots=True)
class ResolvedRecord:
    """One resolved SenML record: exactly one of ``v``/``vs``/``vb``/``vd`` and/or a sum ``s``.

    Not frozen: a frozen dataclass's ``__init__`` costs a ``object.__setattr__`` per field, and this
    is built for every value on the ingest's hot path. Treat it as immutable anyway."""

    n: str
    t: float
    u: str | None = None
    v: float | None = None
    vs: str | None = None
    vb: bool | None = None
    vd: str | None = None
    s: float | None = None
    bn: str = ""
    """The base name in effect: records sharing it and a time are co-sampled (one wide point)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "t": self.t}
        for key in ("u", "v", "vs", "vb", "vd", "s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def value(self) -> float | bool | str | None:
        v = self.v
        if v is not None:
            return v
        return self.vs if self.vs is not None else self.vb if self.vb is not None else self.vd

    def to_point(self, device_id: int, device_tags: Mapping[str, str] | None = None) -> Point:
        """The narrow shape: one point for this record alone. ``device_tags``: the device's tags
        (docs/telemetry.md); ``device_id`` alone when not given."""
        fields: dict[str, float | bool | str] = {}
        if self.v is not None:
            fields["v"] = self.v
        elif self.vs is not None:
            fields["vs"] = self.vs
        elif self.vb is not None:
            fields["vb"] = self.vb
        elif self.vd is not None:
            fields["vd"] = self.vd
        if self.s is not None:
            fields["s"] = self.s
        tags = {**(device_tags or {"device_id": str(device_id)}), "name": self.n}
        if self.u is not None:
            tags["unit"] = self.u
        return Point(MEASUREMENT, fields, round(self.t * 1_000_000_000), tags)


@dataclass(frozen=True, slots=True)
class Accepted:
    device_id: int
    records: tuple[ResolvedRecord, ...]

    def points(self, device_tags: Mapping[str, str] | None = None) -> list[Point]:
        return sensor_points(self.device_id, self.records, device_tags)


def sensor_points(
    device_id: int, records: Sequence[ResolvedRecord], device_tags: Mapping[str, str] | None = None
) -> list[Point]:
    """Records sharing a time and a base name become one point when their keys do not clash.

    The wide point's tags are the device's (``device_tags``, docs/telemetry.md); each record adds a
    field named after it (its value; a sum adds ``<name>_sum``) and, when it has a unit, the tag
    ``unit_<name>``. Keys clash when a name repeats
    in the group (the same quantity twice at one instant, perhaps in two units), when a key would equal
    another key of the point, or when it is one of the narrow shape's keys; then every record of that
    group keeps the narrow shape, so nothing is merged that a reader could not tell apart.
    """
    groups: dict[tuple[str, float], list[ResolvedRecord]] = {}
    for record in records:
        groups.setdefault((record.bn, record.t), []).append(record)
    out: list[Point] = []
    for group in groups.values():
        wide = _wide_point(device_id, group, device_tags)
        if wide is None:
            out.extend(record.to_point(device_id, device_tags) for record in group)
        else:
            out.append(wide)
    return out


def _wide_point(
    device_id: int, group: Sequence[ResolvedRecord], device_tags: Mapping[str, str] | None
) -> Point | None:
    tags = dict(device_tags or {"device_id": str(device_id)})
    fields: dict[str, float | bool | str] = {}
    for record in group:
        name = record.n
        if name in _RESERVED_KEYS or name in fields or name in tags:
            return None
        value = record.value()
        if value is not None:
            fields[name] = value
        if record.s is not None:
            key = name + SUM_SUFFIX
            if key in fields or key in tags:
                return None
            fields[key] = record.s
        if record.u is not None:
            key = UNIT_TAG_PREFIX + name
            if key in fields or key in tags:
                return None
            tags[key] = record.u
    if not fields.keys().isdisjoint(tags):
        return None
    return Point(MEASUREMENT, fields, round(group[0].t * 1_000_000_000), tags)


ParseResult = Accepted | Rejection
