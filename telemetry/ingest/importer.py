"""``ioc telemetry import``: payloads from a file through exactly the MQTT path's parsing and checks.

A file holds either one payload (a SenML pack, or one of our JSON messages) or JSON Lines, one
payload per line; each payload is judged as if it had arrived on the device's topic, with the same
size limit, so a file that passes here is one the firmware may publish.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telemetry.ingest.directory import DeviceDirectory
from telemetry.ingest.parse import PayloadFormat, parse_payload
from telemetry.ingest.records import Accepted, Rejection, RejectReason, ResolvedRecord
from telemetry.sink import Sink


@dataclass
class ImportResult:
    accepted: list[ResolvedRecord] = field(default_factory=list)
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    """(payload number, counted from 1 = line number for JSON Lines; 1 for a single payload, reason)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": [record.to_json() for record in self.accepted],
            "rejected": [
                {"item": item, "reason": rejection.reason.value, "detail": rejection.detail}
                for item, rejection in self.rejected
            ],
        }


def split_payloads(data: bytes) -> list[tuple[int, bytes]]:
    """The whole file when it is one JSON value, otherwise its non-blank lines (JSON Lines).

    A file with nothing in it is one empty payload, judged (``not_json``) rather than accepted as nothing."""
    if not data.strip():
        return [(1, data)]
    try:
        json.loads(data)
        return [(1, data)]
    except (ValueError, RecursionError):
        pass
    return [(number, line) for number, line in enumerate(data.splitlines(), 1) if line.strip()]


async def import_payloads(
    payloads: Sequence[tuple[int, bytes]],
    device_id: int,
    fmt: PayloadFormat,
    *,
    directory: DeviceDirectory,
    now: float,
    sink: Sink | None,
) -> ImportResult:
    """Validate everything; write the accepted points to ``sink`` (``None``: dry run) in one call."""
    result = ImportResult()
    if not await directory.is_known(device_id):
        rejection = Rejection(
            RejectReason.UNKNOWN_DEVICE, f"device {device_id} has no active MQTT credential"
        )
        result.rejected = [(item, rejection) for item, _ in payloads] or [(0, rejection)]
        return result
    points = []
    tags = directory.tags(device_id)
    for item, payload in payloads:
        parsed = parse_payload(payload, device_id, fmt, now)
        if isinstance(parsed, Accepted):
            result.accepted.extend(parsed.records)
            points.extend(parsed.points(tags))
        else:
            result.rejected.append((item, parsed))
    if sink is not None and points:
        await sink.write(points)
    return result
