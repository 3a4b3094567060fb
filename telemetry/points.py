"""The one typed shape every collector produces and every sink accepts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: measurement, tags, typed fields and a timestamp in nanoseconds (UTC epoch).

    ``int`` fields are written as InfluxDB integers and ``float`` fields as floats, so a collector must
    choose the Python type deliberately (``1`` vs ``1.0``).
    """

    measurement: str
    fields: Mapping[str, FieldValue]
    time_ns: int
    tags: Mapping[str, str] = field(default_factory=dict)
