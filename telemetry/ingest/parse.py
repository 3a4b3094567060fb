"""One entry point from raw bytes to resolved records or a rejection; it never raises.

MQTT ingest and ``ioc telemetry import`` both call :func:`parse_payload`, so a file of payloads is
judged exactly as the broker's messages are.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from pydantic import ValidationError

from telemetry.ingest import jsonformat, limits, senml
from telemetry.ingest.records import Accepted, ParseResult, Rejection, RejectReason
from telemetry.ingest.validate import Rejected

log = logging.getLogger(__name__)


class PayloadFormat(enum.StrEnum):
    JSON = "json"
    SENML = "senml"


def parse_payload(payload: bytes, device_id: int, fmt: PayloadFormat, now: float) -> ParseResult:
    if len(payload) > limits.MAX_PAYLOAD_BYTES:
        return Rejection(
            RejectReason.TOO_LARGE, f"payload is {len(payload)} bytes, over {limits.MAX_PAYLOAD_BYTES}"
        )
    try:
        if fmt is PayloadFormat.SENML:
            records = senml.resolve(senml.PACK.validate_json(payload), device_id, now)
        else:
            records = jsonformat.resolve(jsonformat.MESSAGE.validate_json(payload), device_id, now)
    except ValidationError as error:
        return _from_validation(error)
    except Rejected as rejected:
        return rejected.rejection
    except Exception as error:  # the ingest must never die on input; log the bug once per message
        log.exception("unexpected error parsing a %s payload of device %s", fmt.value, device_id)
        return Rejection(RejectReason.SCHEMA, f"unexpected parser error: {type(error).__name__}")
    return Accepted(device_id, tuple(records))


_TYPE_NAMES = {"bool": "a boolean", "int": "a number", "float": "a number", "str": "a string"}


def _from_validation(error: ValidationError) -> Rejection:
    errors: list[dict[str, Any]] = [
        dict(item) for item in error.errors(include_url=False, include_input=False)
    ]
    first = errors[0]
    message = str(first.get("msg", ""))
    if first.get("type") == "json_invalid":
        if "recursion" in message:
            return Rejection(RejectReason.SCHEMA, "JSON nested too deeply")
        return Rejection(RejectReason.NOT_JSON, f"not valid JSON: {message}")
    if any(item.get("type") == "finite_number" for item in errors):
        bad = next(item for item in errors if item.get("type") == "finite_number")
        return Rejection(RejectReason.NOT_FINITE, f"{_where(bad)}: not a finite number")
    problems: dict[str, str] = {}
    for item in errors:
        where = _where(item)
        if where in problems:
            continue
        union = [other for other in errors if _where(other) == where and _union_member(other)]
        if len(union) > 1:
            expected = sorted({_TYPE_NAMES[str(other["loc"][-1])] for other in union})
            problems[where] = f"wrong type, expected {' or '.join(expected)}"
        else:
            problems[where] = str(item.get("msg", ""))
    shown = [f"{where}: {text}" for where, text in list(problems.items())[:3]]
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return Rejection(RejectReason.SCHEMA, "; ".join(shown) + more)


def _union_member(item: dict[str, Any]) -> bool:
    loc = item.get("loc", ())
    return bool(loc) and str(loc[-1]) in _TYPE_NAMES


def _where(item: dict[str, Any]) -> str:
    loc = [str(part) for part in item.get("loc", ())]
    if loc and loc[-1] in _TYPE_NAMES:
        loc = loc[:-1]
    return ".".join(loc) or "payload"
