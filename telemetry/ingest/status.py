"""The retained status topic: ``online`` / ``offline`` (the device's will), as a ``sensor_status`` point.

Not ``device_status``: that measurement is the monitors' state per evaluation (``state``, ``up``), and
sharing it would mix two field sets under one name for every availability query."""

from __future__ import annotations

from collections.abc import Mapping

from telemetry.ingest.records import Rejection, RejectReason
from telemetry.points import Point

STATUS_MEASUREMENT = "sensor_status"
_STATES = {b"online": True, b"offline": False}


def parse_status(
    payload: bytes, device_id: int, now: float, device_tags: Mapping[str, str] | None = None
) -> Point | Rejection:
    state = _STATES.get(payload.strip().lower())
    if state is None:
        return Rejection(RejectReason.SCHEMA, "status payload must be 'online' or 'offline'")
    tags = dict(device_tags or {"device_id": str(device_id)})
    return Point(STATUS_MEASUREMENT, {"online": state}, round(now * 1e9), tags)
