"""Stored rows that no longer validate: logged once per process, then skipped by every reader.

The monitors re-read the registry every few seconds; a bad row must neither stop them nor fill the log.
"""

from __future__ import annotations

import logging

from device_registry.log_once import error_once


def report_invalid(log: logging.Logger, kind: str, row_id: int, problem: str) -> None:
    """Log ``kind row_id: problem`` at ERROR the first time this process sees it."""
    error_once(log, "%s %d skipped, it no longer validates: %s", kind, row_id, problem)
