"""Checks shared by both payload formats: resolved names, device identity in names, units, times."""

from __future__ import annotations

import math
from functools import lru_cache

from telemetry.ingest import limits
from telemetry.ingest.records import Rejection, RejectReason
from telemetry.ingest.units import KNOWN_UNITS

DEVICE_URN = "urn:dev:ioc:"
"""A name may carry the platform's device URN (``urn:dev:ioc:42:water_level``); it must be the topic's."""


class Rejected(Exception):
    """Internal short-cut out of nested resolution; always converted to a :class:`Rejection`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.rejection = Rejection(reason, detail)


@lru_cache(maxsize=8192)
def local_name(name: str, device_id: int) -> str:
    """Cached: a fleet repeats the same few names in every message (rejections are not cached)."""
    if not name:
        raise Rejected(RejectReason.BAD_NAME, "record has no name (n and bn both empty)")
    if len(name) > limits.MAX_NAME_CHARS:
        raise Rejected(RejectReason.BAD_NAME, f"name longer than {limits.MAX_NAME_CHARS} characters")
    if name.startswith(DEVICE_URN):
        claimed, sep, rest = name[len(DEVICE_URN) :].partition(":")
        if claimed != str(device_id):
            raise Rejected(
                RejectReason.IDENTITY_MISMATCH,
                f"name {name[:80]!r} claims device {claimed[:20]!r} but the message is device {device_id}",
            )
        if not sep or not rest:
            raise Rejected(RejectReason.BAD_NAME, f"name {name[:80]!r} has nothing after the device URN")
        name = rest
    if not limits.NAME_RE.match(name):
        raise Rejected(
            RejectReason.BAD_NAME,
            f"name {name[:80]!r} must start with a letter or digit and use only A-Z a-z 0-9 - : . / _",
        )
    return name


def check_unit(unit: str | None) -> str | None:
    if unit is None or unit == "":
        return None
    if unit not in KNOWN_UNITS:
        raise Rejected(RejectReason.UNKNOWN_UNIT, f"unit {unit[:40]!r} is not a registered SenML unit")
    return unit


def absolute_time(t: float, now: float, what: str = "t") -> float:
    """RFC 8428 4.5.3: values below 2**28 are relative to now; then the plausible window applies."""
    if not math.isfinite(t):
        raise Rejected(RejectReason.NOT_FINITE, f"{what} is not a finite number")
    if t < limits.RELATIVE_TIME_LIMIT:
        t = now + t
    if t < limits.MIN_TIME_S:
        raise Rejected(RejectReason.OUT_OF_RANGE, f"{what} resolves to {t:.0f}, before 2000-01-01")
    if t > now + limits.MAX_FUTURE_S:
        hint = " (milliseconds instead of seconds?)" if t > now * 100 else ""
        raise Rejected(RejectReason.OUT_OF_RANGE, f"{what} resolves to {t:.0f}, more than a day ahead{hint}")
    return t


def finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise Rejected(RejectReason.NOT_FINITE, f"{what} is not a finite number")
    return value
