"""Device detail: one device's interfaces, camera health, sensor values and check results.

Sensors write two shapes (docs/mqtt.md). A wide point (one per message) has one field per value and
the unit of field ``x`` in tag ``unit_x``; no fixed query can name a field's own unit tag, so the wide
panel repeats once per field (variable ``sensor_field``, the ``sensor`` field keys) and groups by that
field's unit tag. A narrow point (a SenML group whose names or units clash) has a ``name`` and a
``unit`` tag and its value in ``v``: a panel of its own.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import statetimeline, table, timeseries
from grafana_foundation_sdk.models import dashboard as model

from grafana.dashboards.common import DEVICE, TIME_FILTER, dashboard, device_variable, targets, ts
from grafana.influxql import InfluxQL, datasource_ref
from telemetry.ingest.records import NARROW_FIELDS, UNIT_TAG_PREFIX

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


SENSOR_FIELD = "sensor_field"


def sensor_field_variable() -> dash.QueryVariable:
    """Every numeric-or-not field of ``sensor`` except the narrow shape's; hidden, it drives the repeat."""
    return (
        dash.QueryVariable(SENSOR_FIELD)
        .label("Sensor field")
        .datasource(datasource_ref())
        .query('SHOW FIELD KEYS FROM "sensor"')
        .regex(f"/^(?!({'|'.join(sorted(NARROW_FIELDS))})$).+/")  # sorted: the export stays byte-stable
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .hide(model.VariableHide.HIDE_VARIABLE)
    )


def sensor_panels() -> list[timeseries.Panel | table.Panel]:
    wide = InfluxQL(
        f'SELECT mean("${SENSOR_FIELD}") AS "value" FROM "sensor" WHERE {WHERE} '
        f'GROUP BY time($__interval), "{UNIT_TAG_PREFIX}${SENSOR_FIELD}" fill(none)'
    ).alias(f"${SENSOR_FIELD} ($tag_{UNIT_TAG_PREFIX}${{{SENSOR_FIELD}}})")
    narrow = InfluxQL(
        f'SELECT mean("v") AS "v" FROM "sensor" WHERE {WHERE} AND "name" != \'\' '
        'GROUP BY time($__interval), "name", "unit" fill(none)'
    ).alias("$tag_name ($tag_unit)")
    last_seen = InfluxQL(
        f'SELECT last(*) FROM "sensor" WHERE {WHERE} GROUP BY "name", "unit", /^unit_/'
    ).table()  # a wide point's unit tags become columns
    online = InfluxQL(f'SELECT last("online") AS "online" FROM "sensor_status" WHERE {WHERE}').table()
    return [
        ts("Sensor values, narrow points (by name and unit)", narrow),
        targets(table.Panel().title("Sensor last values and last seen (time column)"), last_seen, online)
        .datasource(datasource_ref())
        .height(8)
        .span(12),
        # Grafana repeats it across the row, one panel per field (span 24 is shared out).
        ts(f"Sensor ${SENSOR_FIELD}", wide, span=24).repeat(SENSOR_FIELD).repeat_direction("h"),
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
    return dashboard("IOC — Device detail", UID, rows, variables=[device_variable(), sensor_field_variable()])
