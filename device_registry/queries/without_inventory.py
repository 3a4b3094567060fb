"""Devices loaded without SNMP's interface inventory (``attributes["snmp"]["interfaces"]``).

Onboarding keeps up to 2,048 interfaces per SNMP device in its facts. Pollers and checks never read
them, and a page of the device listing has no room for them: loading them with every watched device
cost the monitors ~8x the time and ~20x the memory per snapshot (1,000 switches of 48 interfaces),
and a listing page of 50 such switches weighed ~500 KB. So the database drops them before sending.
The single-device read and ``GET /api/v1/snmp/devices/{id}/interfaces`` still return them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from device_registry.models import Device


class WithoutInventory(FunctionElement[Any]):
    """``devices.attributes`` without ``snmp.interfaces``, computed by the database."""

    type = JSON()
    name = "without_inventory"
    inherit_cache = True


@compiles(WithoutInventory, "sqlite")
def _sqlite(element: WithoutInventory, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_remove({compiler.process(element.clauses, **kw)}, '$.snmp.interfaces')"


@compiles(WithoutInventory, "postgresql")
def _postgresql(element: WithoutInventory, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    # ``#-`` refuses a path through an array or scalar: only an object "snmp" has interfaces to drop.
    return (
        f"CASE WHEN json_typeof({column} -> 'snmp') = 'object' "
        f"THEN CAST(CAST({column} AS jsonb) #- '{{snmp,interfaces}}' AS json) ELSE {column} END"
    )


@compiles(WithoutInventory)
def _other(element: WithoutInventory, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


async def devices_without_inventory(session: AsyncSession, query: Select[Device]) -> list[Device]:
    """The devices ``query`` selects, in its order, their ``attributes`` lacking the SNMP inventory.

    The lean attributes are loaded as the committed value: read them, never write them back from this
    session (a device already loaded in it is given the lean value too).
    """
    rows = (
        await session.execute(
            query.add_columns(WithoutInventory(Device.attributes)).options(defer(Device.attributes))
        )
    ).all()
    for device, attributes in rows:
        set_committed_value(device, "attributes", attributes or {})
    return [device for device, _ in rows]
