"""Device detail: one device's interfaces, camera health, sensor values and check results.

Sensor queries select ``*`` / ``last(*)`` grouped by ``name`` and ``unit``, so they show both the
narrow shape (``name`` tag, field ``v``/``vs``/``vb``) and the wide shape (one point per message, one
field per value) without naming fields.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import statetimeline, table, timeseries

from grafana.dashboards.common import DEVICE, TIME_FILTER, dashboard, device_variable, targets, ts
from grafana.influxql import InfluxQL, datasource_ref

UID = "ioc-device"
WHERE = f"{DEVICE} AND {TIME_FILTER}"
PER_INTERFACE = 'GROUP BY time($__interval), "if_name" fill(none)'


def _interface_rates(title: str, fields: tuple[str, str], unit: str) -> timeseries.Panel:
    first, second = fields
    return ts(
        title,
        InfluxQL(
            f'SELECT mean("{first}") AS "{first}", mean("{second}") AS "{second}" FROM "snmp_interface" '
            f"WHERE {WHERE} {PER_INTERFACE}"
        ).alias("$tag_if_name $col"),
        unit=unit,
    )


def interface_panels() -> list[timeseries.Panel | statetimeline.Panel]:
    oper = InfluxQL(
        f'SELECT last("oper_up") AS "oper_up" FROM "snmp_interface" WHERE {WHERE} {PER_INTERFACE}'
    ).alias("$tag_if_name")
    return [
        _interface_rates("Interface traffic", ("in_bps", "out_bps"), "bps"),
        _interface_rates("Interface errors", ("in_errors", "out_errors"), "pps"),
        _interface_rates("Interface discards", ("in_discards", "out_discards"), "pps"),
        targets(statetimeline.Panel().title("Interface oper status (1 = up)"), oper)
        .datasource(datasource_ref())
        .height(8)
        .span(12),
    ]


def camera_panels() -> list[timeseries.Panel | statetimeline.Panel]:
    up = InfluxQL(
        'SELECT last("onvif_up") AS "ONVIF up", last("rtsp_up") AS "RTSP up" FROM "camera_health" '
        f"WHERE {WHERE} GROUP BY time($__interval) fill(none)"
    )
    return [
        targets(statetimeline.Panel().title("Camera ONVIF / RTSP up"), up)
        .datasource(datasource_ref())
        .height(8)
        .span(8),
        ts(
            "Camera clock offset",
            InfluxQL(
                f'SELECT mean("clock_offset_s") AS "offset" FROM "camera_health" WHERE {WHERE} '
                "GROUP BY time($__interval) fill(none)"
            ),
            unit="s",
            span=8,
        ),
        ts(
            "Camera probe latency",
            InfluxQL(
                f'SELECT mean("probe_ms") AS "probe" FROM "camera_health" WHERE {WHERE} '
                "GROUP BY time($__interval) fill(none)"
            ),
            unit="ms",
            span=8,
        ),
    ]


def sensor_panels() -> list[timeseries.Panel | table.Panel]:
    values = InfluxQL(
        f'SELECT mean(*) FROM "sensor" WHERE {WHERE} GROUP BY time($__interval), "name", "unit" fill(none)'
    ).alias("$tag_name $col ($tag_unit)")
    last_seen = InfluxQL(f'SELECT last(*) FROM "sensor" WHERE {WHERE} GROUP BY "name", "unit"').table()
    online = InfluxQL(f'SELECT last("online") AS "online" FROM "sensor_status" WHERE {WHERE}').table()
    return [
        ts("Sensor values by name and unit", values),
        targets(table.Panel().title("Sensor last values and last seen (time column)"), last_seen, online)
        .datasource(datasource_ref())
        .height(8)
        .span(12),
    ]


def check_panels() -> list[timeseries.Panel | table.Panel]:
    latency = InfluxQL(
        f'SELECT mean("latency_ms") AS "latency" FROM "check_result" WHERE {WHERE} '
        'GROUP BY time($__interval), "check" fill(none)'
    ).alias("$tag_check")
    latest = InfluxQL(
        'SELECT last("ok") AS "ok", last("state") AS "state", last("latency_ms") AS "latency_ms", '
        f'last("error") AS "last_error" FROM "check_result" WHERE {WHERE} GROUP BY "check"'
    ).table()
    return [
        ts("Check latency", latency, unit="ms"),
        targets(
            table.Panel().title("Check results (last; last_error = reason of the latest failure)"), latest
        )
        .datasource(datasource_ref())
        .height(8)
        .span(12),
    ]


def build() -> dash.Dashboard:
    rows = (
        ("Network interfaces", interface_panels()),
        ("Camera", camera_panels()),
        ("Sensor", sensor_panels()),
        ("Checks", check_panels()),
    )
    return dashboard("IOC — Device detail", UID, rows, variables=[device_variable()])
