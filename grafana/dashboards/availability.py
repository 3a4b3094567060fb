"""Availability: uptime by commune and by kind over the dashboard's time range.

Computed from the monitors' ``device_status`` points (one per scheduled evaluation): uptime is the
share of evaluations whose checks all passed (``up``), leaving out evaluations made while a
maintenance window covered the device (``in_maintenance = false``). What this cannot do (docs/grafana.md):
it weights evaluations, not seconds (a device re-checked every ``retry_interval_s`` while a change
awaits confirmation counts more often then), it counts ``unreachable`` devices (behind a failed uplink)
as down, and a maintenance window added after the fact does not rewrite points already stored;
``ioc sla report`` computes time-weighted SLA from the outage records and applies windows retroactively.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, timeseries
from grafana_foundation_sdk.builders import dashboard as dash

from grafana.dashboards.common import PLACE, TIME_FILTER, dashboard, place_variables, targets, ts
from grafana.influxql import InfluxQL, datasource_ref

UID = "ioc-availability"
COUNTED = f'{PLACE} AND "in_maintenance" = false AND {TIME_FILTER}'


def _uptime_bars(by: str, title: str) -> bargauge.Panel:
    query = InfluxQL(
        f'SELECT mean("up") * 100 AS "uptime" FROM "device_status" WHERE {COUNTED} GROUP BY "{by}"'
    ).alias(f"$tag_{by}")
    return (
        targets(bargauge.Panel().title(title), query)
        .datasource(datasource_ref())
        .unit("percent")
        .min(0)
        .max(100)
        .height(10)
        .span(12)
    )


def uptime_panels() -> list[bargauge.Panel | timeseries.Panel]:
    over_time = InfluxQL(
        f'SELECT mean("up") * 100 AS "uptime" FROM "device_status" WHERE {COUNTED} '
        'GROUP BY time($__interval), "commune" fill(none)'
    ).alias("$tag_commune")
    return [
        _uptime_bars("commune", "Uptime by commune (maintenance excluded)"),
        _uptime_bars("kind", "Uptime by kind (maintenance excluded)"),
        ts("Uptime over time by commune", over_time, unit="percent", span=24),
    ]


def build() -> dash.Dashboard:
    rows = (("Uptime", uptime_panels()),)
    return dashboard("IOC — Availability", UID, rows, since="now-7d", variables=place_variables())
