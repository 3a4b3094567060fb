"""The platform's own JSON payload, for firmware that does not speak SenML.

    {"ts": 1764000000.5, "fields": {"water_level": 1.42, "pump_on": true, "state": "ok"}}

``ts`` is optional (receipt time when absent): epoch seconds (a number) or an RFC 3339 string with
an offset. ``fields`` maps names to a number, a boolean or a string. ``device`` is optional and must
equal the topic's device id when present. Unknown top-level keys are rejected, so that a typo
(``"feilds"``) is a dead letter with a reason instead of a silently empty message. Each field
resolves to one SenML record: numbers to ``v`` (always float, so a series never changes type in the
store), booleans to ``vb``, strings to ``vs``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter

from telemetry.ingest import limits
from telemetry.ingest.records import RejectReason, ResolvedRecord
from telemetry.ingest.validate import Rejected, absolute_time, finite, local_name

FieldValue = StrictBool | StrictInt | StrictFloat | StrictStr


class SensorMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    ts: StrictFloat | StrictInt | StrictStr | None = None
    device: StrictInt | None = None
    fields: dict[str, FieldValue] = Field(min_length=1, max_length=limits.MAX_RECORDS)


MESSAGE = TypeAdapter(SensorMessage)


def _timestamp(ts: float | int | str | None, now: float) -> float:
    if ts is None:
        return now
    if isinstance(ts, str):
        try:
            parsed = datetime.fromisoformat(ts)
        except ValueError:
            raise Rejected(RejectReason.SCHEMA, f"ts {ts[:40]!r} is not an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise Rejected(RejectReason.SCHEMA, f"ts {ts[:40]!r} has no UTC offset")
        return absolute_time(parsed.timestamp(), now, "ts")
    return absolute_time(float(ts), now, "ts")


def resolve(message: SensorMessage, device_id: int, now: float) -> list[ResolvedRecord]:
    if message.device is not None and message.device != device_id:
        raise Rejected(
            RejectReason.IDENTITY_MISMATCH,
            f"payload says device {message.device} but the message is device {device_id}",
        )
    t = _timestamp(message.ts, now)
    out: list[ResolvedRecord] = []
    for key, value in message.fields.items():
        try:
            name = local_name(key, device_id)
            if isinstance(value, bool):
                out.append(ResolvedRecord(n=name, t=t, vb=value))
            elif isinstance(value, str):
                if len(value) > limits.MAX_STRING_CHARS:
                    raise Rejected(RejectReason.TOO_LARGE, f"string longer than {limits.MAX_STRING_CHARS}")
                out.append(ResolvedRecord(n=name, t=t, vs=value))
            else:
                out.append(ResolvedRecord(n=name, t=t, v=finite(float(value), "value")))
        except Rejected as rejected:
            detail = f"field {key[:60]!r}: {rejected.rejection.detail}"
            raise Rejected(rejected.rejection.reason, detail) from None
    return out
