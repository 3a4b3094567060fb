"""A typed InfluxQL dataquery for grafana-foundation-sdk, which ships no InfluxDB query builder.

:class:`InfluxQLQuery` is the model (what Grafana's InfluxDB datasource stores in a panel's ``targets``:
``query``, ``rawQuery``, ``resultFormat``, ``alias``); :class:`InfluxQL` is its builder, implementing the
SDK's ``Builder`` protocol so panels take it through ``with_target`` like any generated query builder.
The model is registered as the SDK's ``influxdb`` dataquery variant, so ``Dashboard.from_json`` reads
our targets back into this class instead of an untyped bag, and the JSON round-trips exactly.

Raw InfluxQL is the one query language InfluxDB 1.x, 2.x (through a DBRP mapping) and 3.x all answer.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_TYPE = "influxdb"
DATASOURCE_UID = "ioc-influxdb"
DATASOURCE_NAME = "IOC InfluxDB"
ResultFormat = Literal["time_series", "table", "logs"]


def datasource_ref() -> DataSourceRef:
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL query of a panel (Grafana's ``InfluxQuery`` with ``rawQuery: true``)."""

    def __init__(
        self,
        ref_id: str = "",
        query: str = "",
        result_format: ResultFormat = "time_series",
        alias: str | None = None,
        hide: bool | None = None,
        datasource: DataSourceRef | None = None,
    ) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias
        self.hide = hide
        self.datasource = datasource

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.hide is not None:
            payload["hide"] = self.hide
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        source = data.get("datasource")
        return cls(
            ref_id=data.get("refId", ""),
            query=data.get("query", ""),
            result_format=data.get("resultFormat", "time_series"),
            alias=data.get("alias"),
            hide=data.get("hide"),
            datasource=DataSourceRef.from_json(source) if isinstance(source, dict) else None,
        )


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """``InfluxQL(sql).ref_id("A").table()``: a raw query against the IOC datasource."""

    def __init__(self, query: str) -> None:
        self._internal = InfluxQLQuery(query=query, datasource=datasource_ref())

    def build(self) -> InfluxQLQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Rows with tags as columns (tables, geomap, transformations), not one frame per series."""
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Series name pattern, e.g. ``$tag_if_name in``."""
        self._internal.alias = alias
        return self

    def hide(self, hide: bool = True) -> Self:
        self._internal.hide = hide
        return self


def register() -> None:
    """Make the SDK decode ``influxdb`` targets into :class:`InfluxQLQuery` (idempotent)."""
    cogruntime.Runtime().register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=InfluxQLQuery.from_json)
    )


register()
