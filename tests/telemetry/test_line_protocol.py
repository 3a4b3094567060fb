"""Points a collector may produce: the odd ones are refused at write() time, the rest survive a round trip."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from telemetry.line_protocol import InvalidPoint, TimeWindow, encode_point
from telemetry.points import Point
from telemetry.sink import Sink
from telemetry.spool import SPOOL_FILE
from telemetry.writer import TelemetryWriter
from tests.support.tsdb import InfluxServer, VictoriaServer
from tests.telemetry.helpers import BASE_NS, v1_target, v2_target, wait_drained, writer_config

NOW = time.time_ns()

AWKWARD_TAGS = {
    "phường": "Hà Nội – Phường Đống Đa",
    "t=k ,x": "a b,c=d",
    "path": r"C:\camera\01",
}
AWKWARD_FIELDS: dict[str, float | int | bool | str] = {
    "ghi chú": 'cổng "Bắc", ổ C:\\ và \\"escaped\\"\nhai dòng',
    "nhiệt độ": 31.25,
    "big": 1e20,
    "tiny": -2.5e-12,
    "count": -(2**63),
    "ok": True,
}


@pytest.mark.parametrize(
    ("point", "field", "reason"),
    [
        (Point("cpu", {"load": math.nan}, NOW), "field 'load'", "NaN"),
        (Point("cpu", {"load": math.inf}, NOW), "field 'load'", "inf"),
        (Point("cpu", {"load": -math.inf}, NOW), "field 'load'", "-inf"),
        (Point("cpu", {}, NOW), "fields", "at least one field"),
        (Point("cpu", {"v": 1}, NOW, {"site": "Huế\nĐà Nẵng"}), "tag 'site' value", "newline"),
        (Point("cpu", {"v": 1}, NOW, {"si\nte": "x"}), "tag key", "newline"),
        (Point("cpu", {"lo\rad": 1}, NOW), "field key", "newline"),
        (Point("cp\nu", {"v": 1}, NOW), "measurement", "newline"),
        (Point("", {"v": 1}, NOW), "measurement", "empty"),
        (Point("#cpu", {"v": 1}, NOW), "measurement", "comment"),
        (Point("cpu", {"v": 1}, NOW, {"path": "C:\\"}), "tag 'path' value", "backslash"),
        (Point("cpu", {"v": 2**63}, NOW), "field 'v'", "64 bits"),
        (Point("cpu", {"v": None}, NOW), "field 'v'", "unsupported type NoneType"),  # type: ignore[dict-item]
        (Point("cpu", {"time": 1}, NOW), "field key 'time'", "reserved"),
        (Point("cpu", {"v": 1}, NOW, {"site": ["Huế"]}), "tag 'site'", "must be a string"),  # type: ignore[dict-item]
        (Point("cpu", {"v": 1}, NOW, {"time": "x"}), "tag key 'time'", "reserved"),
        (Point("cpu", {"v": 1}, NOW + 30 * 86_400 * 10**9), "time_ns", "outside the accepted window"),
        (Point("cpu", {"v": 1}, 946_684_800 * 10**9), "time_ns", "outside the accepted window"),
        (Point("cpu", {"v": 1}, 1.7e18), "time_ns", "must be an int"),  # type: ignore[arg-type]
    ],
)
def test_unstorable_point_is_refused_naming_point_and_field(point: Point, field: str, reason: str) -> None:
    with pytest.raises(InvalidPoint) as caught:
        encode_point(point, index=3, bounds=TimeWindow().bounds())
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert message.startswith("point #3 (measurement ")
    assert field in message and reason in message
    assert caught.value.index == 3 and caught.value.point is point


def test_int_float_bool_are_typed_and_empty_tags_left_out() -> None:
    line = encode_point(Point("m", {"i": 3, "f": 3.0, "b": False}, 7, {"empty": "", "k": "v"}))
    assert line == "m,k=v i=3i,f=3.0,b=false 7"


async def test_write_refuses_the_whole_call_when_one_point_is_bad(tmp_path: Path) -> None:
    good = Point("cpu", {"load": 0.5}, BASE_NS)
    bad = Point("cpu", {"load": math.nan}, BASE_NS + 1, {"device": "cam-7"})
    async with TelemetryWriter(writer_config(tmp_path, None)) as writer:
        assert isinstance(writer, Sink)
        with pytest.raises(ValueError, match=r"point #1 .*'device': 'cam-7'.*field 'load'.*NaN"):
            await writer.write([good, bad])
        assert writer.snapshot()["spool_points"] == 0
        await writer.write([good])
        assert writer.snapshot()["spool_points"] == 1
    assert (tmp_path / SPOOL_FILE).exists()


async def test_awkward_names_and_vietnamese_values_read_back_from_influxdb(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    point = Point("trạng thái,cổng vào", AWKWARD_FIELDS, BASE_NS, AWKWARD_TAGS)
    async with TelemetryWriter(writer_config(tmp_path, v1_target(influxdb.url))) as writer:
        await writer.write([point])
        await wait_drained(writer)
        assert writer.snapshot()["points_written"] == 1

    (series,) = influxdb.query('SELECT * FROM "trạng thái,cổng vào"')
    assert series["name"] == "trạng thái,cổng vào"
    row = dict(zip(series["columns"], series["values"][0], strict=True))
    assert row.pop("time") == BASE_NS
    assert row == {**AWKWARD_FIELDS, **AWKWARD_TAGS}
    types = {
        name: kind for name, kind in influxdb.query('SHOW FIELD KEYS FROM "trạng thái,cổng vào"')[0]["values"]
    }
    assert types == {"ghi chú": "string", "nhiệt độ": "float", "big": "float", "tiny": "float",
                     "count": "integer", "ok": "boolean"}  # fmt: skip


async def test_awkward_names_read_back_from_victoriametrics_v2_api(
    tmp_path: Path, victoria: VictoriaServer
) -> None:
    numeric = {k: v for k, v in AWKWARD_FIELDS.items() if not isinstance(v, str)}
    point = Point("trạng thái", numeric, BASE_NS, AWKWARD_TAGS)
    async with TelemetryWriter(writer_config(tmp_path, v2_target(victoria.url))) as writer:
        await writer.write([point])
        await wait_drained(writer)

    exported = {s["metric"]["__name__"]: s for s in victoria.export('{__name__=~"trạng thái_.*"}')}
    assert set(exported) == {f"trạng thái_{key}" for key in numeric}
    for key, value in numeric.items():
        series = exported[f"trạng thái_{key}"]
        assert {k: v for k, v in series["metric"].items() if k != "__name__"} == AWKWARD_TAGS
        assert series["values"] == [float(value)]
        assert series["timestamps"] == [BASE_NS // 1_000_000]


FORGING_IF_NAMES = [
    "Gi0/1\\,site=Kho bạc",  # a backslash before the comma the encoder escapes
    "x\\ ,site=evil",  # ... before the space that ends the tag set
    "p\\\\,q=1",
    "a\\=b",
    "C:\\camera\\01",
]


async def test_switch_if_name_cannot_forge_tags_in_influxdb_1x(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    points = [
        Point("ifx", {"in_octets": float(i)}, BASE_NS + i, {"device": "sw-1", "ifName": name})
        for i, name in enumerate(FORGING_IF_NAMES)
    ]
    async with TelemetryWriter(writer_config(tmp_path, v1_target(influxdb.url))) as writer:
        await writer.write(points)
        await wait_drained(writer)
        assert writer.snapshot()["points_written"] == len(points)

    assert influxdb.query("SHOW TAG KEYS FROM ifx")[0]["values"] == [["device"], ["ifName"]]
    (series,) = influxdb.query('SELECT "in_octets", "device", "ifName" FROM ifx')
    assert [row[1:] for row in series["values"]] == [
        [float(i), "sw-1", name] for i, name in enumerate(FORGING_IF_NAMES)
    ]


async def test_switch_if_name_cannot_forge_tags_in_victoriametrics(
    tmp_path: Path, victoria: VictoriaServer
) -> None:
    points = [
        Point("ifx", {"in_octets": float(i)}, BASE_NS + i * 1_000_000, {"device": "sw-1", "ifName": name})
        for i, name in enumerate(FORGING_IF_NAMES)
    ]
    async with TelemetryWriter(writer_config(tmp_path, v2_target(victoria.url))) as writer:
        await writer.write(points)
        await wait_drained(writer)

    stored = {
        series["values"][0]: series["metric"] for series in victoria.export('{__name__="ifx_in_octets"}')
    }
    assert stored == {
        float(i): {"__name__": "ifx_in_octets", "device": "sw-1", "ifName": name}
        for i, name in enumerate(FORGING_IF_NAMES)
    }
