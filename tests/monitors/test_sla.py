"""SLA against a case computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitors.maintenance import MaintenanceCalendar, MaintenanceWindow
from monitors.outages import OutageRecord
from monitors.sla import sla_report

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
"""Midnight UTC a month ago: a whole past day whenever the suite runs."""


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def test_sla_matches_hand_computed_day() -> None:
    """Device 1: down 10:00-12:00 (2 h) and 19:30-20:30 UTC; nightly maintenance 02:00-03:00 ICT
    (19:00-20:00 UTC) hides half an hour of the second outage.
      monitored = 24 h - 1 h = 82,800 s; down = 7,200 + 1,800 = 9,000 s; uptime = 73,800 / 82,800
    Device 2: unreachable 06:00-06:15 behind device 3 (900 s), no maintenance: 85,500 / 86,400.
    Device 3: still down since 23:00 (open outage, report 'now' is 23:30): 1,800 s down.
    Site (1+2+3): up = 73,800 + 85,500 + 84,600 = 243,900 over 82,800 + 2 * 86,400 = 255,600."""
    outages = [
        OutageRecord(1, 1, 1, at(10), at(12)),
        OutageRecord(2, 1, 1, at(19.5), at(20.5)),
        OutageRecord(3, 2, 3, at(6), at(6.25)),
        OutageRecord(4, 3, 3, at(23), None),
        OutageRecord(5, 1, 1, at(-5), at(-4)),  # before the period: ignored
    ]
    calendar = MaintenanceCalendar(
        [MaintenanceWindow(reason="nightly", owner="ops", device_id=1, cron="0 2 * * *", duration_s=3600)]
    )
    report = sla_report(
        {"site": [1, 2, 3], "cameras": [1, 2]},
        outages,
        calendar.intervals_for,
        DAY,
        at(24),
        now=at(23.5),
    )
    by_name = {a.name: a for a in report.devices}
    assert (by_name["1"].monitored_s, by_name["1"].down_s) == (82_800, 9_000)
    assert by_name["1"].uptime_pct == pytest.approx(100 * 73_800 / 82_800)
    assert by_name["2"].uptime_pct == pytest.approx(100 * 85_500 / 86_400)
    assert by_name["3"].down_s == 1_800
    site, cameras = report.groups
    assert site.uptime_pct == pytest.approx(100 * 243_900 / 255_600)
    assert site.devices == 3
    assert cameras.uptime_pct == pytest.approx(100 * (73_800 + 85_500) / (82_800 + 86_400))

    strict = sla_report(
        {"site": [2]}, outages, calendar.intervals_for, DAY, at(24), now=at(23.5), count_unreachable=False
    )
    assert strict.devices[0].uptime_pct == 100.0


def test_whole_period_in_maintenance_has_no_uptime_figure() -> None:
    calendar = MaintenanceCalendar(
        [MaintenanceWindow(reason="rebuild", owner="ops", device_id=1, starts_at=at(-1), ends_at=at(30))]
    )
    report = sla_report(
        {"x": [1]}, [OutageRecord(1, 1, 1, at(1), at(2))], calendar.intervals_for, DAY, at(24), now=at(24)
    )
    assert report.devices[0].uptime_pct is None and report.devices[0].down_s == 0
