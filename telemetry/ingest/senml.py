"""SenML JSON (RFC 8428): validate a pack and resolve it into records (section 4.6).

Resolution: ``n = bn + n``, ``t = bt + t`` (relative to receipt time when below 2**28), ``u`` defaults
to ``bu``, ``v = bv + v``, ``s = bs + s``. A record carrying only base fields just sets the bases.
Fields ending in ``_`` are "must understand" (section 4.4) and we understand none, so they reject the
pack; other unknown fields are ignored as the RFC requires.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter

from telemetry.ingest import limits
from telemetry.ingest.records import RejectReason, ResolvedRecord
from telemetry.ingest.validate import Rejected, absolute_time, check_unit, finite, local_name

SENML_VERSION = 10
VALUE_KEYS = ("v", "vs", "vb", "vd")
_BASE_ONLY_KEYS = frozenset({"bn", "bt", "bu", "bv", "bs", "bver"})

Number = StrictFloat | StrictInt


class SenmlRecord(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, frozen=True)

    bn: StrictStr | None = None
    bt: Number | None = None
    bu: StrictStr | None = None
    bv: Number | None = None
    bs: Number | None = None
    bver: StrictInt | None = None
    n: StrictStr | None = None
    u: StrictStr | None = None
    v: Number | None = None
    vs: StrictStr | None = Field(default=None, max_length=limits.MAX_STRING_CHARS)
    vb: StrictBool | None = None
    vd: StrictStr | None = Field(default=None, max_length=limits.MAX_DATA_CHARS)
    s: Number | None = None
    t: Number | None = None
    ut: Number | None = None


PACK = TypeAdapter(list[SenmlRecord])


def resolve(pack: list[SenmlRecord], device_id: int, now: float) -> list[ResolvedRecord]:
    """Resolve a validated pack; raises :class:`Rejected` naming the record index on any violation."""
    if not pack:
        raise Rejected(RejectReason.SCHEMA, "SenML pack is empty")
    if len(pack) > limits.MAX_RECORDS:
        raise Rejected(RejectReason.TOO_LARGE, f"more than {limits.MAX_RECORDS} records")
    bn, bt, bu, bv, bs = "", 0.0, None, 0.0, 0.0
    out: list[ResolvedRecord] = []
    for index, record in enumerate(pack):
        try:
            _check_extra(record.model_extra)
            if record.bver is not None and record.bver > SENML_VERSION:
                raise Rejected(
                    RejectReason.MUST_UNDERSTAND, f"bver {record.bver} is newer than {SENML_VERSION}"
                )
            if record.bn is not None:
                bn = record.bn
            if record.bt is not None:
                bt = finite(float(record.bt), "bt")
            if record.bu is not None:
                bu = record.bu
            if record.bv is not None:
                bv = finite(float(record.bv), "bv")
            if record.bs is not None:
                bs = finite(float(record.bs), "bs")
            resolved = _resolve_one(record, device_id, now, bn, bt, bu, bv, bs)
        except Rejected as rejected:
            raise Rejected(
                rejected.rejection.reason, f"record {index}: {rejected.rejection.detail}"
            ) from None
        if resolved is not None:
            out.append(resolved)
    if not out:
        raise Rejected(RejectReason.SCHEMA, "SenML pack has no record with a value or sum")
    return out


def _check_extra(extra: dict[str, Any] | None) -> None:
    for key in extra or ():
        if key.endswith("_"):
            raise Rejected(
                RejectReason.MUST_UNDERSTAND, f"must-understand field {key[:40]!r} is not supported"
            )


def _resolve_one(
    record: SenmlRecord, device_id: int, now: float, bn: str, bt: float, bu: str | None, bv: float, bs: float
) -> ResolvedRecord | None:
    values = (
        (record.v is not None) + (record.vs is not None) + (record.vb is not None) + (record.vd is not None)
    )
    if values > 1:
        present = [key for key in VALUE_KEYS if getattr(record, key) is not None]
        raise Rejected(RejectReason.SCHEMA, f"more than one value field: {', '.join(present)}")
    if not values and record.s is None:
        if record.model_fields_set <= _BASE_ONLY_KEYS:
            return None
        raise Rejected(RejectReason.SCHEMA, "record has no value (v, vs, vb, vd) and no sum (s)")
    name = local_name(bn + (record.n or ""), device_id)
    t = absolute_time(bt + (float(record.t) if record.t is not None else 0.0), now)
    unit = check_unit(record.u if record.u is not None else bu)
    v = finite(bv + float(record.v), "v") if record.v is not None else None
    s = finite(bs + float(record.s), "s") if record.s is not None else None
    if record.vd is not None and not limits.BASE64URL_RE.match(record.vd):
        raise Rejected(RejectReason.SCHEMA, "vd is not base64url without padding")
    return ResolvedRecord(n=name, t=t, u=unit, v=v, vs=record.vs, vb=record.vb, vd=record.vd, s=s)
