"""Reading a camera's clock from its GetSystemDateAndTime answer.

Cameras report UTCDateTime, or only LocalDateTime with a POSIX TZ string (``ICT-7``, ``CST-8``,
``GMT0``); some report nothing usable. Answers are in whole seconds.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_POSIX_TZ = re.compile(r"^\s*(?:[A-Za-z]{3,}|<[^>]+>)([+-]?)(\d{1,2})(?::(\d{2}))?")


def posix_tz_offset(tz: str | None) -> dt.timedelta | None:
    """UTC offset of a POSIX TZ string's standard time (POSIX signs are inverted: ``ICT-7`` is +7 h)."""
    if not tz:
        return None
    match = _POSIX_TZ.match(tz)
    if match is None:
        return None
    sign = 1 if match.group(1) == "-" else -1
    return sign * dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))


def _datetime(value: Any, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime(
        value.Date.Year,
        value.Date.Month,
        value.Date.Day,
        value.Time.Hour,
        value.Time.Minute,
        value.Time.Second,
        tzinfo=tz,
    )


def device_utc(answer: Any) -> dt.datetime | None:
    """The device's idea of now, in UTC; None when the answer does not say it unambiguously."""
    if answer is None:
        return None
    try:
        if getattr(answer, "UTCDateTime", None) is not None:
            return _datetime(answer.UTCDateTime, dt.UTC)
        local = getattr(answer, "LocalDateTime", None)
        offset = posix_tz_offset(getattr(getattr(answer, "TimeZone", None), "TZ", None))
        if local is not None and offset is not None:
            return _datetime(local, dt.timezone(offset)).astimezone(dt.UTC)
    except (AttributeError, TypeError, ValueError):
        return None
    return None
