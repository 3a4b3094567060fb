"""Epoch seconds (what payloads carry) to the aware UTC datetimes the columns hold."""

from __future__ import annotations

from datetime import UTC, datetime


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
