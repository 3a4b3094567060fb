"""Probe one agent: system group, vendor/model/OS, interfaces. Read-only; saving is the caller's job.

A probe only fails when the agent gives nothing at all (no answer, wrong credentials). Anything odd
after that - a missing sysDescr, no ifXTable, a walk that ends early, values of the wrong type - is
recorded in ``ProbeResult.notes`` ("not read: ifXTable") and the probe returns what it could read, so
the device can still be onboarded. ``notes`` is the probe-result vocabulary of every protocol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from provisioning.snmp import identify, mib
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import MAX_INTERFACES, Oid, SnmpEndpoint, VarBind

NOT_READ = "not read: "
IF_COLUMNS = mib.columns("descr", "type", "speed", "mac", "admin", "oper")
IFX_COLUMNS = mib.columns("name", "high_speed", "alias")


@dataclass(frozen=True, slots=True)
class Interface:
    index: int
    name: str | None
    descr: str | None
    alias: str | None
    type: int | None
    speed_bps: int | None
    admin_status: str | None
    oper_status: str | None
    mac: str | None


@dataclass(slots=True)
class ProbeResult:
    host: str
    port: int
    sys_descr: str | None = None
    sys_object_id: str | None = None
    sys_name: str | None = None
    sys_contact: str | None = None
    sys_location: str | None = None
    uptime_s: float | None = None
    enterprise_number: int | None = None
    vendor: str | None = None
    vendor_registry_name: str | None = None
    family: str | None = None
    model: str | None = None
    os: str | None = None
    rtt_ms: float | None = None
    has_ifx_table: bool = False
    interfaces: list[Interface] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What could not be read (``"not read: ifXTable"``, ``"not read: ifTable (partial: ...)"``) and why
    identification left a field unknown (e.g. a generic agent names no vendor)."""

    def not_read(self, what: str) -> None:
        self.notes.append(f"{NOT_READ}{what}")


def _text(vb: VarBind | None) -> str | None:
    if vb is None or vb.missing or vb.value is None:
        return None
    if isinstance(vb.value, bytes):
        return vb.value.rstrip(b"\x00").decode("utf-8", errors="replace").strip() or None
    return str(vb.value)


def _int(vb: VarBind | None) -> int | None:
    return vb.value if vb is not None and isinstance(vb.value, int) and not vb.missing else None


def _mac(vb: VarBind | None) -> str | None:
    if vb is None or not isinstance(vb.value, bytes) or len(vb.value) != 6:
        return None
    return ":".join(f"{b:02x}" for b in vb.value)


async def probe(
    client: SnmpClient,
    endpoint: SnmpEndpoint,
    *,
    max_interfaces: int = MAX_INTERFACES,
    walk_time: float = 20.0,
) -> ProbeResult:
    """Identify one agent. Raises ``DeviceError`` only when the system group gets no answer at all."""
    await identify.load_async()
    result = ProbeResult(host=endpoint.host, port=endpoint.port)
    started = time.perf_counter()
    system = await client.get(endpoint, list(mib.SYSTEM_SCALARS.values()))
    result.rtt_ms = round((time.perf_counter() - started) * 1000, 2)
    got = dict(zip(mib.SYSTEM_SCALARS, system, strict=True))

    result.sys_descr = _text(got["sys_descr"])
    oid_vb = got["sys_object_id"]
    result.sys_object_id = oid_vb.value if isinstance(oid_vb.value, str) and not oid_vb.missing else None
    result.sys_name = _text(got["sys_name"])
    result.sys_contact = _text(got["sys_contact"])
    result.sys_location = _text(got["sys_location"])
    ticks = _int(got["uptime"])
    result.uptime_s = ticks / 100 if ticks is not None else None
    for key, label in (("sys_descr", "sysDescr"), ("sys_object_id", "sysObjectID"), ("uptime", "sysUpTime")):
        if (getattr(result, key) if key != "uptime" else result.uptime_s) is None:
            result.not_read(label)

    result.enterprise_number = identify.enterprise_number(result.sys_object_id)
    if result.enterprise_number is not None:
        known = identify.enterprises().get(result.enterprise_number)
        if known is not None:
            result.vendor_registry_name = known.registry_name
    fetched = await _fetch_vendor_oids(client, endpoint, result.sys_object_id)
    ident = identify.identify(result.sys_object_id, result.sys_descr, fetched)
    result.vendor, result.family, result.model, result.os = ident.vendor, ident.family, ident.model, ident.os
    result.notes += ident.notes

    await _read_interfaces(client, endpoint, result, max_interfaces=max_interfaces, walk_time=walk_time)
    return result


async def _fetch_vendor_oids(
    client: SnmpClient, endpoint: SnmpEndpoint, sys_object_id: str | None
) -> dict[str, str]:
    wanted = identify.oids_to_fetch(sys_object_id)
    if not wanted:
        return {}
    from provisioning.errors import DeviceError

    try:
        answer = await client.get(endpoint, list(wanted.values()))
    except DeviceError:
        return {}
    return {name: text for name, vb in zip(wanted, answer, strict=True) if (text := _text(vb))}


async def _read_interfaces(
    client: SnmpClient, endpoint: SnmpEndpoint, result: ProbeResult, *, max_interfaces: int, walk_time: float
) -> None:
    from provisioning.errors import DeviceError

    deadline = time.monotonic() + walk_time
    try:
        if_walk = await client.walk_table(
            endpoint, list(IF_COLUMNS.values()), max_rows=max_interfaces, max_time=walk_time
        )
    except DeviceError as error:
        result.not_read(f"ifTable ({error})")
        return
    if not if_walk.complete:
        result.not_read(f"ifTable (partial: {if_walk.stopped})")
    try:
        ifx_walk = await client.walk_table(
            endpoint,
            list(IFX_COLUMNS.values()),
            max_rows=max_interfaces,
            max_time=max(1.0, deadline - time.monotonic()),
        )
    except DeviceError as error:
        result.not_read(f"ifXTable ({error})")
        ifx_walk = None
    if ifx_walk is not None and not ifx_walk.complete:
        result.not_read(f"ifXTable (partial: {ifx_walk.stopped})")

    ifc = {k: if_walk.columns[v] for k, v in IF_COLUMNS.items()}
    ifx = {k: (ifx_walk.columns[v] if ifx_walk else {}) for k, v in IFX_COLUMNS.items()}
    result.has_ifx_table = any(ifx.values())
    if ifx_walk is not None and not result.has_ifx_table:
        result.not_read("ifXTable")
    indexes: set[Oid] = set(if_walk.indexes()) | ({i for c in ifx.values() for i in c})
    odd = 0
    for index in sorted(indexes):
        if len(index) != 1:
            odd += 1  # ifIndex is a single sub-identifier; anything else is a broken row
            continue
        high = _int(ifx["high_speed"].get(index))
        speed = high * 1_000_000 if high else _int(ifc["speed"].get(index))
        result.interfaces.append(
            Interface(
                index=index[0],
                name=_text(ifx["name"].get(index)),
                descr=_text(ifc["descr"].get(index)),
                alias=_text(ifx["alias"].get(index)),
                type=_int(ifc["type"].get(index)),
                speed_bps=speed,
                admin_status=mib.IF_STATUS.get(_int(ifc["admin"].get(index)) or 0),
                oper_status=mib.IF_STATUS.get(_int(ifc["oper"].get(index)) or 0),
                mac=_mac(ifc["mac"].get(index)),
            )
        )
    if odd:
        result.notes.append(f"{odd} interface row(s) with malformed index skipped")
    if not result.interfaces and not any(n.startswith(f"{NOT_READ}ifTable") for n in result.notes):
        result.not_read("ifTable")
