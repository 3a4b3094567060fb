"""The OIDs the platform reads, once: SNMPv2-MIB's system group and IF-MIB's interface tables.

A compact table instead of MIB parsing at run time (as snmp_exporter's generator does offline): the
probe, discovery, the poller and the monitors' check all name these, never a dotted literal of their
own. Column names are the ones our code and points use.
"""

from __future__ import annotations

Oid = tuple[int, ...]

SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR: Oid = (*SYSTEM, 1, 0)
SYS_OBJECT_ID: Oid = (*SYSTEM, 2, 0)
SYS_UPTIME: Oid = (*SYSTEM, 3, 0)
SYS_CONTACT: Oid = (*SYSTEM, 4, 0)
SYS_NAME: Oid = (*SYSTEM, 5, 0)
SYS_LOCATION: Oid = (*SYSTEM, 6, 0)

SYSTEM_SCALARS: dict[str, Oid] = {
    "sys_descr": SYS_DESCR,
    "sys_object_id": SYS_OBJECT_ID,
    "uptime": SYS_UPTIME,
    "sys_contact": SYS_CONTACT,
    "sys_name": SYS_NAME,
    "sys_location": SYS_LOCATION,
}
"""What a probe reads of the system group, by our field names."""

ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)
"""Private enterprise arcs: a sysObjectID under it names the vendor by its IANA number."""

IF_NUMBER: Oid = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)

IF_COLUMNS: dict[str, Oid] = {
    "descr": (*IF_ENTRY, 2),
    "type": (*IF_ENTRY, 3),
    "speed": (*IF_ENTRY, 5),
    "mac": (*IF_ENTRY, 6),
    "admin": (*IF_ENTRY, 7),
    "oper": (*IF_ENTRY, 8),
    "in_octets": (*IF_ENTRY, 10),
    "in_discards": (*IF_ENTRY, 13),
    "in_errors": (*IF_ENTRY, 14),
    "out_octets": (*IF_ENTRY, 16),
    "out_discards": (*IF_ENTRY, 19),
    "out_errors": (*IF_ENTRY, 20),
}
"""IF-MIB ``ifTable`` columns by our names."""

IFX_COLUMNS: dict[str, Oid] = {
    "name": (*IFX_ENTRY, 1),
    "hc_in_octets": (*IFX_ENTRY, 6),
    "hc_out_octets": (*IFX_ENTRY, 10),
    "high_speed": (*IFX_ENTRY, 15),
    "alias": (*IFX_ENTRY, 18),
}
"""IF-MIB ``ifXTable`` columns by our names."""

IF_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
"""IF-MIB ``ifOperStatus`` / ``ifAdminStatus`` values."""


def dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


def columns(*names: str) -> dict[str, Oid]:
    """A subset of the interface columns, by name, in the order given."""
    every = {**IF_COLUMNS, **IFX_COLUMNS}
    return {name: every[name] for name in names}
