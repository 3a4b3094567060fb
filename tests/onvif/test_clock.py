"""Reading camera clocks: UTC, local time with a POSIX zone, or nothing usable."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS

from provisioning.onvif.clock import device_utc, posix_tz_offset


def _stamp(y, mo, d, h, mi, s):
    return NS(Date=NS(Year=y, Month=mo, Day=d), Time=NS(Hour=h, Minute=mi, Second=s))


def test_posix_zones_have_inverted_signs():
    assert posix_tz_offset("ICT-7") == dt.timedelta(hours=7)
    assert posix_tz_offset("CST-8") == dt.timedelta(hours=8)
    assert posix_tz_offset("EST5EDT,M3.2.0,M11.1.0") == dt.timedelta(hours=-5)
    assert posix_tz_offset("<+0530>-5:30") == dt.timedelta(hours=5, minutes=30)
    assert posix_tz_offset("GMT0") == dt.timedelta(0)
    assert posix_tz_offset("Asia/Ho_Chi_Minh") is None
    assert posix_tz_offset(None) is None


def test_utc_wins_then_local_with_zone_then_nothing():
    utc = _stamp(2026, 11, 25, 3, 0, 0)
    local = _stamp(2026, 11, 25, 10, 0, 0)
    zone = NS(TZ="ICT-7")
    expected = dt.datetime(2026, 11, 25, 3, 0, 0, tzinfo=dt.UTC)
    assert device_utc(NS(UTCDateTime=utc, LocalDateTime=None, TimeZone=None)) == expected
    assert device_utc(NS(UTCDateTime=None, LocalDateTime=local, TimeZone=zone)) == expected
    assert device_utc(NS(UTCDateTime=None, LocalDateTime=local, TimeZone=None)) is None
    assert device_utc(NS(UTCDateTime=_stamp(2026, 13, 1, 0, 0, 0))) is None
    assert device_utc(None) is None
