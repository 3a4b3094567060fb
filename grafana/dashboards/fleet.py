"""Fleet overview: where things are broken right now, for one province, district or commune.

Everything comes from InfluxDB: state from the monitors' ``device_status`` points (``severity`` orders
the states, so "worst" is ``max``), commune coordinates from the monitors' ``site`` points (written at
every registry refresh), open outages as the devices whose latest confirmed state is soft_down,
unreachable or down, and outage regions from the annotations the alerting outbox writes.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import geomap, table, timeseries
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as model

from grafana.dashboards.common import (
    PLACE,
    RECENT,
    SEVERITY_STEPS,
    TIME_FILTER,
    dashboard,
    place_variables,
    targets,
    transformation,
    ts,
)
from grafana.influxql import InfluxQL, datasource_ref

GROUPED = {"aggregations": [], "operation": "groupby"}
UID = "ioc-fleet"
"""monitors.alerting.config.GrafanaSettings.dashboard_uid: the outbox annotates this dashboard."""
OUTAGE_SEVERITY = 4
"""soft_down and worse (monitors/scheduler.py STATE_SEVERITY)."""


def _state_counts(title: str, by: str) -> table.Panel:
    latest = InfluxQL(
        f'SELECT last("state") AS "state" FROM "device_status" WHERE {PLACE} AND {RECENT} '
        f'GROUP BY "{by}", "device_id"'
    ).table()
    count = {"aggregations": ["count"], "operation": "aggregate"}  # named "device_id (count)"
    return targets(
        table.Panel().title(title).datasource(datasource_ref()).height(8).span(12),
        latest,
    ).transformations(
        [
            transformation(
                "groupBy",
                fields={by: GROUPED, "state": GROUPED, "device_id": count},
            ),
            transformation(
                "groupingToMatrix", columnField="state", rowField=by, valueField="device_id (count)"
            ),
        ]
    )


def state_row() -> list[table.Panel]:
    return [
        _state_counts("Devices by state and commune", "commune"),
        _state_counts("Devices by state and kind", "kind"),
    ]


def commune_map() -> geomap.Panel:
    """Communes at their registry coordinates, coloured by the worst state of their devices.

    The basemap is the world outline Grafana serves itself (``public/maps/countries.geojson``), so the
    map draws on a closed network; no tile server is contacted."""
    where = f"{PLACE} AND {RECENT}"
    locations = InfluxQL(
        f'SELECT last("lat") AS "lat", last("lon") AS "lon", last("name") AS "name" FROM "site" '
        f'WHERE {where} GROUP BY "commune"'
    ).table()
    worst = InfluxQL(
        f'SELECT max("severity") AS "worst", count("severity") AS "evaluations" FROM "device_status" '
        f'WHERE {where} GROUP BY "commune"'
    ).table()
    basemap = (
        common_builders.MapLayerOptions()
        .type("geojson")
        .name("Land (offline)")
        .config(
            {"src": "public/maps/countries.geojson", "rules": [], "style": {"color": {"fixed": "#e0e0e0"}}}
        )
    )
    markers = (
        common_builders.MapLayerOptions()
        .type("markers")
        .name("Communes")
        .location(
            common_builders.FrameGeometrySource()
            .mode(common_models.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "worst", "fixed": "green"},
                    "size": {"fixed": 8},
                    "text": {"field": "name", "mode": "field"},
                },
            }
        )
    )
    return (
        targets(
            geomap.Panel().title("Communes by worst state (15 min)").datasource(datasource_ref()),
            locations,
            worst,
        )
        .height(14)
        .span(24)
        .basemap(basemap)
        .layers([markers])
        .view(geomap.MapViewConfig().id("fit"))
        .thresholds(dash.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(SEVERITY_STEPS))
        .color_scheme(dash.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .transformations([transformation("joinByField", byField="commune", mode="inner")])
    )


def open_outages() -> table.Panel:
    latest = InfluxQL(
        'SELECT last("state") AS "state", last("severity") AS "severity" FROM "device_status" '
        f'WHERE {PLACE} AND {RECENT} GROUP BY "province", "district", "commune", "device", "kind"'
    ).table()
    keep_outages = {
        "filters": [
            {
                "fieldName": "severity",
                "config": {"id": "greaterOrEqual", "options": {"value": OUTAGE_SEVERITY}},
            }
        ],
        "match": "any",
        "type": "include",
    }
    return (
        targets(table.Panel().title("Open outages").datasource(datasource_ref()), latest)
        .height(8)
        .span(24)
        .transformations([transformation("filterByValue", **keep_outages)])
        .thresholds(dash.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(SEVERITY_STEPS))
    )


def district_uplinks() -> timeseries.Panel:
    """District uplinks are the interfaces of the gear standing on a district site itself (no
    ``commune`` tag): every commune's traffic towards the province crosses them. After the 2025
    reform there are no districts, and this panel is empty by design."""
    where = (
        f'"province" =~ /^$province$/ AND "district" =~ /^$district$/ AND "commune" = \'\' AND {TIME_FILTER}'
    )
    return ts(
        "Traffic through district uplinks",
        InfluxQL(
            f'SELECT mean("in_bps") AS "in", mean("out_bps") AS "out" FROM "snmp_interface" WHERE {where} '
            'GROUP BY time($__interval), "district", "device", "if_name" fill(none)'
        ).alias("$tag_district $tag_device $tag_if_name $col"),
        unit="bps",
        span=24,
    )


def outage_annotations() -> dash.AnnotationQuery:
    """The regions monitors/alerting opens and closes through the outbox (tag ``ioc``)."""
    return (
        dash.AnnotationQuery()
        .name("Outages")
        .datasource(model.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .icon_color("red")
        .target(dash.AnnotationTarget().type("tags").tags(["ioc"]).limit(500).match_any(False))
    )


def build() -> dash.Dashboard:
    rows = (
        ("State", state_row()),
        ("Map", [commune_map()]),
        ("Outages", [open_outages()]),
        ("Uplinks", [district_uplinks()]),
    )
    board = dashboard("IOC — Fleet overview", UID, rows, variables=place_variables())
    return board.annotation(outage_annotations())
