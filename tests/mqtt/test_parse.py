"""Payload parsing: RFC 8428 examples resolve as the RFC says; malformed payloads are typed rejections."""

from __future__ import annotations

import json

import pytest

from telemetry.ingest.parse import PayloadFormat, parse_payload
from telemetry.ingest.records import MEASUREMENT, Accepted, Rejection, RejectReason, ResolvedRecord

NOW = 1_764_000_000.0
DEVICE = 7


def accepted(payload: object, fmt: PayloadFormat = PayloadFormat.SENML) -> list[dict[str, object]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = parse_payload(raw, DEVICE, fmt, NOW)
    assert isinstance(result, Accepted), result
    return [record.to_json() for record in result.records]


def rejected(payload: object, fmt: PayloadFormat = PayloadFormat.SENML) -> Rejection:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = parse_payload(raw, DEVICE, fmt, NOW)
    assert isinstance(result, Rejection), result
    return result


def test_rfc8428_single_datapoint_without_time_is_now() -> None:
    records = accepted([{"n": "urn:dev:ow:10e2073a01080063", "u": "Cel", "v": 23.1}])
    assert records == [{"n": "urn:dev:ow:10e2073a01080063", "t": NOW, "u": "Cel", "v": 23.1}]


def test_rfc8428_multiple_datapoints_share_the_base_name() -> None:
    records = accepted(
        [
            {"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
            {"n": "current", "u": "A", "v": 1.2},
        ]
    )
    assert [(r["n"], r["u"], r["v"]) for r in records] == [
        ("urn:dev:ow:10e2073a01080063:voltage", "V", 120.1),
        ("urn:dev:ow:10e2073a01080063:current", "A", 1.2),
    ]


def test_rfc8428_multiple_measurements_resolve_like_section_5_1_4() -> None:
    pack = [
        {
            "bn": "urn:dev:ow:10e2073a0108006:",
            "bt": 1.276020076001e09,
            "bu": "A",
            "bver": 5,
            "n": "voltage",
            "u": "V",
            "v": 120.1,
        },
        {"n": "current", "t": -5, "v": 1.2},
        {"n": "current", "t": -4, "v": 1.3},
        {"n": "current", "t": -3, "v": 1.4},
        {"n": "current", "t": -2, "v": 1.5},
        {"n": "current", "t": -1, "v": 1.6},
        {"n": "current", "v": 1.7},
    ]
    records = accepted(pack)
    assert records[0] == {
        "n": "urn:dev:ow:10e2073a0108006:voltage",
        "t": 1.276020076001e09,
        "u": "V",
        "v": 120.1,
    }
    currents = records[1:]
    assert [r["v"] for r in currents] == [1.2, 1.3, 1.4, 1.5, 1.6, 1.7]
    assert [r["t"] for r in currents] == pytest.approx(
        [1.276020076001e09 + d for d in (-5, -4, -3, -2, -1, 0)]
    )
    assert {r["u"] for r in currents} == {"A"}


def test_rfc8428_multiple_data_types_and_relative_base_time() -> None:
    records = accepted(
        [
            {"bn": "urn:dev:ow:10e2073a01080063:", "n": "temperature", "u": "Cel", "v": 23.1},
            {"n": "label", "vs": "Machine Room"},
            {"n": "open", "vb": False},
            {"n": "nfc-reader", "vd": "aGkgCg"},
        ]
    )
    assert records[1] == {"n": "urn:dev:ow:10e2073a01080063:label", "t": NOW, "vs": "Machine Room"}
    assert records[2]["vb"] is False
    assert records[3]["vd"] == "aGkgCg"


def test_rfc8428_base_value_and_base_sum_are_added() -> None:
    records = accepted(
        [
            {
                "bn": "meter/",
                "bt": -60,
                "bv": 100.0,
                "bs": 5000,
                "bu": "kWh",
                "n": "energy",
                "v": 2.5,
                "s": 12,
            },
            {"n": "energy", "t": 30, "v": 3.0},
            {"n": "energy", "t": 60, "s": 20},
        ]
    )
    assert records == [
        {"n": "meter/energy", "t": NOW - 60, "u": "kWh", "v": 102.5, "s": 5012.0},
        {"n": "meter/energy", "t": NOW - 30, "u": "kWh", "v": 103.0},
        {"n": "meter/energy", "t": NOW, "u": "kWh", "s": 5020.0},
    ]


def test_record_with_only_base_fields_sets_bases_and_yields_nothing() -> None:
    records = accepted([{"bn": "pump/", "bu": "m"}, {"n": "level", "v": 1.5}])
    assert records == [{"n": "pump/level", "t": NOW, "u": "m", "v": 1.5}]


def test_our_device_urn_is_stripped_and_must_name_this_device() -> None:
    assert accepted([{"bn": f"urn:dev:ioc:{DEVICE}:", "n": "water_level", "u": "m", "v": 1.2}])[0]["n"] == (
        "water_level"
    )
    other = rejected([{"bn": "urn:dev:ioc:8:", "n": "water_level", "v": 1.2}])
    assert other.reason is RejectReason.IDENTITY_MISMATCH
    assert "device '8'" in other.detail


def test_our_json_format_resolves_to_senml_records() -> None:
    records = accepted(
        {"ts": "2025-11-24T16:00:00+07:00", "fields": {"level": 2, "pump_on": True, "state": "ok"}},
        PayloadFormat.JSON,
    )
    t = 1_763_974_800.0
    assert records == [
        {"n": "level", "t": t, "v": 2.0},
        {"n": "pump_on", "t": t, "vb": True},
        {"n": "state", "t": t, "vs": "ok"},
    ]


def test_json_without_ts_uses_receipt_time_and_numbers_become_floats() -> None:
    result = parse_payload(b'{"fields": {"pm2_5": 35}}', DEVICE, PayloadFormat.JSON, NOW)
    assert isinstance(result, Accepted)
    (point,) = result.points()
    assert point.measurement == MEASUREMENT
    assert point.time_ns == int(NOW) * 1_000_000_000
    assert point.tags == {"device_id": "7"}
    assert point.fields == {"pm2_5": 35.0} and isinstance(point.fields["pm2_5"], float)


def test_a_json_message_is_one_wide_point_with_a_field_per_name() -> None:
    payload = b'{"ts": 1764000000, "fields": {"temperature": 27, "humidity": 61.5, "door_open": false}}'
    result = parse_payload(payload, DEVICE, PayloadFormat.JSON, NOW)
    assert isinstance(result, Accepted)
    assert [(p.tags, p.fields, p.time_ns) for p in result.points()] == [
        ({"device_id": "7"}, {"temperature": 27.0, "humidity": 61.5, "door_open": False}, 1764 * 10**15)
    ]


def test_senml_records_sharing_time_and_base_name_become_one_point_with_unit_tags() -> None:
    pack = [
        {"bn": "urn:dev:ioc:7:", "bt": 1764000000, "n": "temp", "u": "Cel", "v": 27.5},
        {"n": "hum", "u": "%RH", "v": 61},
        {"n": "rain", "u": "mm", "s": 12.5},
        {"n": "temp", "u": "Cel", "t": 60, "v": 27.9},
        {"bn": "room2/", "n": "temp", "u": "Cel", "v": 22},
    ]
    result = parse_payload(json.dumps(pack).encode(), DEVICE, PayloadFormat.SENML, NOW)
    assert isinstance(result, Accepted)
    assert [(p.tags, p.fields, p.time_ns // 10**9) for p in result.points()] == [
        (
            {"device_id": "7", "unit_temp": "Cel", "unit_hum": "%RH", "unit_rain": "mm"},
            {"temp": 27.5, "hum": 61.0, "rain_sum": 12.5},
            1764000000,
        ),
        ({"device_id": "7", "unit_temp": "Cel"}, {"temp": 27.9}, 1764000060),
        ({"device_id": "7", "unit_room2/temp": "Cel"}, {"room2/temp": 22.0}, 1764000000),
    ]


@pytest.mark.parametrize(
    "pack",
    [
        [{"bt": 1764000000, "n": "temp", "u": "Cel", "v": 1}, {"n": "temp", "u": "K", "v": 274.15}],
        [{"bt": 1764000000, "n": "level", "v": 1}, {"n": "level_sum", "v": 2}, {"n": "level", "s": 3}],
        [{"bt": 1764000000, "n": "v", "v": 1}, {"n": "w", "v": 2}],
        [{"bt": 1764000000, "n": "device_id", "v": 1}],
    ],
    ids=["same name in two units", "sum key taken", "narrow field name", "tag key"],
)
def test_clashing_records_each_keep_the_narrow_shape(pack: list[dict[str, object]]) -> None:
    result = parse_payload(json.dumps(pack).encode(), DEVICE, PayloadFormat.SENML, NOW)
    assert isinstance(result, Accepted)
    points = result.points()
    assert len(points) == len(result.records)
    for point, record in zip(points, result.records, strict=True):
        assert point.tags["name"] == record.n
        assert point.tags.get("unit") == record.u
        assert set(point.fields) <= {"v", "s"}


def test_resolved_record_point_keeps_unit_as_tag() -> None:
    point = ResolvedRecord(n="temp", t=NOW, u="Cel", v=30.5).to_point(DEVICE)
    assert point.tags == {"device_id": "7", "name": "temp", "unit": "Cel"}


DEEP = b'[{"n":"a","v":1,"x":' + b"[" * 3000 + b"]" * 3000 + b"}]"

MALFORMED: list[tuple[str, bytes, PayloadFormat, RejectReason, str]] = [
    ("not json", b"temperature=21", PayloadFormat.SENML, RejectReason.NOT_JSON, "not valid JSON"),
    ("truncated", b'[{"n":"a","v":1', PayloadFormat.SENML, RejectReason.NOT_JSON, "not valid JSON"),
    ("empty bytes", b"", PayloadFormat.JSON, RejectReason.NOT_JSON, "not valid JSON"),
    ("invalid utf-8", b'[{"n":"a","vs":"\xc3\x28"}]', PayloadFormat.SENML, RejectReason.NOT_JSON, "unicode"),
    ("nan literal", b'[{"n":"a","v":NaN}]', PayloadFormat.SENML, RejectReason.NOT_FINITE, "0.v"),
    ("infinity", b'{"fields":{"a":Infinity}}', PayloadFormat.JSON, RejectReason.NOT_FINITE, "fields.a"),
    ("overflow", b'[{"n":"a","v":1e400}]', PayloadFormat.SENML, RejectReason.NOT_FINITE, "0.v"),
    ("string value", b'[{"n":"a","v":"1.5"}]', PayloadFormat.SENML, RejectReason.SCHEMA, "0.v"),
    ("bool as number", b'[{"n":"a","v":true}]', PayloadFormat.SENML, RejectReason.SCHEMA, "0.v"),
    ("null value", b'[{"n":"a","v":null}]', PayloadFormat.SENML, RejectReason.SCHEMA, "0.v"),
    ("object not list", b'{"n":"a","v":1}', PayloadFormat.SENML, RejectReason.SCHEMA, "array"),
    ("nested field", b'{"fields":{"a":{"b":1}}}', PayloadFormat.JSON, RejectReason.SCHEMA, "fields.a"),
    ("typo key", b'{"feilds":{"a":1}}', PayloadFormat.JSON, RejectReason.SCHEMA, "feilds"),
    ("no fields", b'{"fields":{}}', PayloadFormat.JSON, RejectReason.SCHEMA, "fields"),
    (
        "huge",
        b'[{"n":"a","vs":"' + b"x" * 70_000 + b'"}]',
        PayloadFormat.SENML,
        RejectReason.TOO_LARGE,
        "bytes",
    ),
    ("deeply nested", DEEP, PayloadFormat.SENML, RejectReason.SCHEMA, "nested too deeply"),
    ("empty pack", b"[]", PayloadFormat.SENML, RejectReason.SCHEMA, "empty"),
    ("two values", b'[{"n":"a","v":1,"vs":"x"}]', PayloadFormat.SENML, RejectReason.SCHEMA, "v, vs"),
    ("no value", b'[{"n":"a","u":"m"}]', PayloadFormat.SENML, RejectReason.SCHEMA, "no value"),
    (
        "must understand",
        b'[{"n":"a","v":1,"rt_":5}]',
        PayloadFormat.SENML,
        RejectReason.MUST_UNDERSTAND,
        "rt_",
    ),
    ("newer bver", b'[{"bver":11,"n":"a","v":1}]', PayloadFormat.SENML, RejectReason.MUST_UNDERSTAND, "bver"),
    (
        "mixed bver",
        b'[{"bver":10,"n":"a","v":1},{"bver":5,"n":"b","v":2}]',
        PayloadFormat.SENML,
        RejectReason.SCHEMA,
        "bver 5 differs",
    ),
    ("empty senml payload", b"", PayloadFormat.SENML, RejectReason.NOT_JSON, "JSON"),
    ("empty json payload", b"", PayloadFormat.JSON, RejectReason.NOT_JSON, "JSON"),
    ("unknown unit", b'[{"n":"a","u":"degC","v":1}]', PayloadFormat.SENML, RejectReason.UNKNOWN_UNIT, "degC"),
    ("bad name", b'[{"n":"-temp","v":1}]', PayloadFormat.SENML, RejectReason.BAD_NAME, "-temp"),
    ("space in field", b'{"fields":{"air temp":1}}', PayloadFormat.JSON, RejectReason.BAD_NAME, "air temp"),
    ("bad vd", b'[{"n":"a","vd":"aGk=\\n"}]', PayloadFormat.SENML, RejectReason.SCHEMA, "base64url"),
    (
        "milliseconds",
        b'{"ts":1764000000000,"fields":{"a":1}}',
        PayloadFormat.JSON,
        RejectReason.OUT_OF_RANGE,
        "milli",
    ),
    ("year 1970", b'[{"n":"a","t":300000000,"v":1}]', PayloadFormat.SENML, RejectReason.OUT_OF_RANGE, "2000"),
    (
        "ts no offset",
        b'{"ts":"2025-11-24T16:00:00","fields":{"a":1}}',
        PayloadFormat.JSON,
        RejectReason.SCHEMA,
        "offset",
    ),
    (
        "other device",
        b'{"device":8,"fields":{"a":1}}',
        PayloadFormat.JSON,
        RejectReason.IDENTITY_MISMATCH,
        "8",
    ),
]


@pytest.mark.parametrize(
    ("case", "payload", "fmt", "reason", "mentions"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_payload_is_a_typed_rejection_naming_the_problem(
    case: str, payload: bytes, fmt: PayloadFormat, reason: RejectReason, mentions: str
) -> None:
    result = rejected(payload, fmt)
    assert result.reason is reason, result
    assert mentions in result.detail, result


def test_too_many_records_is_rejected() -> None:
    pack = [{"n": "a", "v": i} for i in range(1001)]
    assert rejected(pack).reason is RejectReason.TOO_LARGE
