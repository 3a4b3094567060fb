"""A problem met every cycle is logged once per process: per logger, message and arguments."""

from __future__ import annotations

import logging

import pytest

from device_registry import log_once


def test_the_same_problem_is_logged_once_and_another_one_still_is(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_once, "_logged", set())
    monitors, pollers = logging.getLogger("test.monitors"), logging.getLogger("test.pollers")
    caplog.set_level(logging.ERROR)
    for _ in range(3):  # three cycles meet the same two broken rows
        log_once.error_once(monitors, "%s %d skipped: %s", "maintenance window", 7, "bad cron")
        log_once.error_once(monitors, "%s %d skipped: %s", "maintenance window", 8, "bad cron")
    log_once.error_once(monitors, "%s %d skipped: %s", "maintenance window", 7, "ends before it starts")
    log_once.error_once(pollers, "%s %d skipped: %s", "maintenance window", 7, "bad cron")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("test.monitors", logging.ERROR, "maintenance window 7 skipped: bad cron"),
        ("test.monitors", logging.ERROR, "maintenance window 8 skipped: bad cron"),
        ("test.monitors", logging.ERROR, "maintenance window 7 skipped: ends before it starts"),
        ("test.pollers", logging.ERROR, "maintenance window 7 skipped: bad cron"),
    ]
