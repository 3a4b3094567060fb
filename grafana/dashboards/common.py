"""What every IOC dashboard shares: the datasource, the place variables, filters and panel shapes.

Template variables are declared here once and reused by name; every query filters with the same
regex matchers (``=~ /^$var$/``) so "All" (``.*``) also matches points without that tag, e.g. the
``district`` tag that 2025-reform points no longer carry (docs/telemetry.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as model

from grafana.influxql import InfluxQL, datasource_ref

FOLDER_UID = "ioc"
FOLDER_TITLE = "IOC"
TIME_FILTER = "$timeFilter"
"""Grafana replaces it with the dashboard's time range (``time >= … AND time <= …``)."""
RECENT = "time > now() - 15m"
"""'Now' for state panels: every monitored device is evaluated at least once per check interval."""

PLACE = '"province" =~ /^$province$/ AND "district" =~ /^$district$/ AND "commune" =~ /^$commune$/'
"""The Fleet/Availability dashboards' place filter."""
DEVICE = '"device" =~ /^$device$/'
"""The Device detail dashboard's filter."""


class _Targets(Protocol):
    def with_target(self, target: Builder[Any]) -> Any: ...


_P = TypeVar("_P", bound=_Targets)

SEVERITY_STEPS = [
    model.Threshold(value=None, color="green"),
    model.Threshold(value=1, color="blue"),
    model.Threshold(value=2, color="text"),
    model.Threshold(value=3, color="orange"),
    model.Threshold(value=4, color="yellow"),
    model.Threshold(value=5, color="purple"),
    model.Threshold(value=6, color="red"),
]
"""Colours of ``device_status.severity`` (0 up … 6 down; monitors/scheduler.py STATE_SEVERITY)."""


def _tag_values(name: str, label: str, key: str, where: str | None) -> dash.QueryVariable:
    query = f'SHOW TAG VALUES FROM "device_status" WITH KEY = "{key}"'
    if where:
        query += f" WHERE {where}"
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(datasource_ref())
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def place_variables() -> list[dash.QueryVariable]:
    """province → district → commune, each narrowed by the ones above it."""
    return [
        _tag_values("province", "Province", "province", None),
        _tag_values("district", "District", "district", '"province" =~ /^$province$/'),
        _tag_values(
            "commune", "Commune", "commune", '"province" =~ /^$province$/ AND "district" =~ /^$district$/'
        ),
    ]


def device_variable() -> dash.QueryVariable:
    variable = _tag_values("device", "Device", "device", None)
    return variable.multi(False).include_all(False)


def targets(panel: _P, *queries: InfluxQL) -> _P:
    """``queries`` as refIds A, B, … of ``panel`` (any panel builder: they all take ``with_target``)."""
    for ref, query in zip("ABCDEFGH", queries, strict=False):
        panel.with_target(query.ref_id(ref))
    return panel


def ts(title: str, *queries: InfluxQL, unit: str = "short", span: int = 12) -> timeseries.Panel:
    """A time series panel: one family of curves."""
    panel = timeseries.Panel().title(title).datasource(datasource_ref()).unit(unit).height(8).span(span)
    return targets(panel.line_width(1).fill_opacity(10), *queries)


def transformation(kind: str, **options: object) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(id_val=kind, options=options)


Rows = Sequence[tuple[str, Sequence[Builder[model.Panel]]]]


def dashboard(
    title: str, uid: str, rows: Rows, *, since: str = "now-6h", variables: Sequence[dash.QueryVariable] = ()
) -> dash.Dashboard:
    """The IOC dashboard shape: tagged ``ioc``, browser time zone, variables first, then one row per
    panel family in ``rows`` (title, panels)."""
    board = dash.Dashboard(title).uid(uid).tags(["ioc"]).time(since, "now").refresh("1m").timezone("browser")
    for variable in variables:
        board = board.with_variable(variable)
    for row_title, panels in rows:
        board = board.with_row(dash.Row(row_title))
        for panel in panels:
            board = board.with_panel(panel)
    return board
