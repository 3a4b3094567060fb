"""Platform health: the pipeline's own points (self-metrics), one row per component.

``ioc_telemetry`` (the durable writer, every 10 s), ``collector_cycle`` (every poller cycle),
``mqtt_ingest`` (the MQTT ingest's counters) and ``monitor_scheduler`` (the check scheduler's rate and
lateness). Counters are cumulative per process; rates use ``non_negative_derivative`` so a restart
(counter back to zero) shows no negative spike.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries

from grafana.dashboards.common import TIME_FILTER, dashboard, ts
from grafana.influxql import InfluxQL

UID = "ioc-platform"
EVERY = "GROUP BY time($__interval), {tag} fill(none)"


def _rates(measurement: str, fields: tuple[str, ...], tag: str) -> InfluxQL:
    selected = ", ".join(f'non_negative_derivative(last("{f}"), 1s) AS "{f}"' for f in fields)
    return InfluxQL(
        f'SELECT {selected} FROM "{measurement}" WHERE {TIME_FILTER} {EVERY.format(tag=tag)}'
    ).alias(f"$tag_{tag.strip(chr(34))} $col")


def writer_panels() -> list[timeseries.Panel]:
    depth = InfluxQL(
        'SELECT last("spool_points") AS "spool_points", last("quarantine_points") AS "quarantine_points" '
        f'FROM "ioc_telemetry" WHERE {TIME_FILTER} {EVERY.format(tag=chr(34) + "host" + chr(34))}'
    ).alias("$tag_host $col")
    flows = _rates("ioc_telemetry", ("points_written", "points_dropped", "points_quarantined"), '"host"')
    return [
        ts("Writer spool depth", depth),
        ts("Points written / dropped / quarantined per second", flows, unit="pps"),
    ]


def collector_panels() -> list[timeseries.Panel]:
    where = f'FROM "collector_cycle" WHERE {TIME_FILTER} {EVERY.format(tag=chr(34) + "collector" + chr(34))}'
    cycle = InfluxQL(f'SELECT max("duration_s") AS "cycle" {where}').alias("$tag_collector")
    failed = InfluxQL(f'SELECT last("failed") AS "failed", last("devices") AS "devices" {where}').alias(
        "$tag_collector $col"
    )
    return [ts("Collector cycle time", cycle, unit="s"), ts("Collector failed devices", failed)]


def ingest_panels() -> list[timeseries.Panel]:
    return [
        ts("MQTT ingest rate", _rates("mqtt_ingest", ("received", "points"), '"client_id"'), unit="pps"),
        ts(
            "MQTT dead letters per second",
            _rates("mqtt_ingest", ("dead_letters", "dead_letters_lost"), '"client_id"'),
        ),
    ]


def scheduler_panels() -> list[timeseries.Panel]:
    lateness = InfluxQL(
        'SELECT max("lag_p95_s") AS "p95", max("lag_max_s") AS "max" FROM "monitor_scheduler" '
        f"WHERE {TIME_FILTER} {EVERY.format(tag=chr(34) + 'host' + chr(34))}"
    ).alias("$tag_host $col")
    return [
        ts(
            "Checks per second", _rates("monitor_scheduler", ("checks", "check_errors"), '"host"'), unit="ops"
        ),
        ts("Check lateness (start vs due)", lateness, unit="s"),
    ]


def build() -> dash.Dashboard:
    rows = (
        ("Telemetry writer", writer_panels()),
        ("Collectors", collector_panels()),
        ("MQTT ingest", ingest_panels()),
        ("Check scheduler", scheduler_panels()),
    )
    return dashboard("IOC — Platform health", UID, rows)
