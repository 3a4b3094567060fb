"""What parsing produces: resolved SenML records, or a typed rejection with a reason.

Both payload formats resolve to the same :class:`ResolvedRecord` (RFC 8428 section 4.6: base values
applied, absolute time), so MQTT ingest and ``ioc telemetry import`` share one path to points.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telemetry.points import Point

MEASUREMENT = "sensor"
"""One measurement for all sensor readings; ``name`` and ``unit`` are tags, the value kind is the field."""


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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "t": self.t}
        for key in ("u", "v", "vs", "vb", "vd", "s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def to_point(self, device_id: int, device_tags: Mapping[str, str] | None = None) -> Point:
        """``device_tags``: the device's tags (docs/telemetry.md); ``device_id`` alone when not given."""
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
        return [record.to_point(self.device_id, device_tags) for record in self.records]


ParseResult = Accepted | Rejection
