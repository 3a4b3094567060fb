"""What the SNMP client is given and hands back: endpoints, var-binds, table walks; no pysnmp objects.

Also :class:`SnmpFacts`, what onboarding stored about an agent (``device.attributes["snmp"]``, through
``provisioning.facts``), interfaces included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from provisioning.endpoint import split_host_port
from provisioning.facts import Facts
from provisioning.snmp.mib import Oid, dotted

SnmpCredential = SnmpCommunityCredential | SnmpV3Credential

MISSING_KINDS = frozenset({"noSuchObject", "noSuchInstance", "endOfMibView"})


def parse_oid(text: str | Oid) -> Oid:
    """``"1.3.6.1"`` or ``".1.3.6.1"`` -> ``(1, 3, 6, 1)``; a clear ``ValueError`` otherwise."""
    if isinstance(text, tuple):
        return text
    try:
        parts = tuple(int(p) for p in text.strip().lstrip(".").split("."))
    except ValueError:
        raise ValueError(f"oid: {text!r} is not a numeric OID") from None
    if len(parts) < 2 or any(p < 0 for p in parts):
        raise ValueError(f"oid: {text!r} is not a numeric OID")
    return parts


format_oid = dotted


@dataclass(frozen=True, slots=True)
class SnmpEndpoint:
    """Where and how to ask: address, port, credential, per-request timeout (s) and retries."""

    DEFAULT_PORT: ClassVar[int] = 161

    host: str
    credential: SnmpCredential = field(repr=False)
    port: int = DEFAULT_PORT
    timeout: float = 2.0
    retries: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port: {self.port} is outside 1..65535")
        if self.timeout <= 0:
            raise ValueError(f"timeout: {self.timeout} must be positive")
        if self.retries < 0:
            raise ValueError(f"retries: {self.retries} must be >= 0")

    @classmethod
    def split(cls, target: str) -> tuple[str, int]:
        """``HOST[:PORT]`` with SNMP's default port."""
        return split_host_port(target, cls.DEFAULT_PORT)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def worst_case_s(self) -> float:
        """How long one request can take before it is declared timed out."""
        return self.timeout * (self.retries + 1)


@dataclass(frozen=True, slots=True)
class VarBind:
    """One answered variable. ``kind`` is the SMI type name; ``value`` its Python form.

    Integers/counters/gauges/timeticks -> ``int``; OCTET STRING and Opaque -> ``bytes``;
    OBJECT IDENTIFIER and IpAddress -> ``str``; exceptions (``noSuchObject``...) and Null -> ``None``.
    """

    oid: Oid
    kind: str
    value: int | bytes | str | None

    @property
    def missing(self) -> bool:
        return self.kind in MISSING_KINDS

    @property
    def oid_str(self) -> str:
        return format_oid(self.oid)


@dataclass(slots=True)
class TableWalk:
    """Columns of one table read by a bounded walk: ``columns[column_oid][index] = VarBind``.

    ``complete`` is False when the walk stopped on a bound (rows or time) or on a broken agent;
    ``stopped`` then says why, so callers can save what was read and report what is missing.
    """

    columns: dict[Oid, dict[Oid, VarBind]]
    scalars: list[VarBind] = field(default_factory=list)
    complete: bool = True
    stopped: str | None = None

    def indexes(self) -> list[Oid]:
        seen: set[Oid] = set()
        for rows in self.columns.values():
            seen.update(rows)
        return sorted(seen)


MAX_INTERFACES = 2048
"""Interfaces kept per device: the probe's default walk bound; a larger agent's rest is noted, not kept."""


class SnmpInterfaceFacts(BaseModel):
    """One ifTable/ifXTable row as read at onboarding (the columns of the former ``snmp_interfaces``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    if_index: int
    name: str | None = Field(default=None, max_length=255)
    descr: str | None = Field(default=None, max_length=255)
    alias: str | None = Field(default=None, max_length=255)
    if_type: int | None = None
    speed_bps: int | None = None
    mac: str | None = Field(default=None, max_length=17)
    admin_status: str | None = Field(default=None, max_length=16)
    oper_status: str | None = Field(default=None, max_length=16)


class SnmpFacts(Facts):
    """What SNMP onboarding read from the agent, beyond the device's own columns (vendor, model, ...)."""

    protocol: ClassVar[str] = "snmp"

    version: Literal[1] = 1
    sys_object_id: str | None = None
    enterprise_number: int | None = None
    vendor_registry_name: str | None = None
    family: str | None = None
    sys_location: str | None = None
    sys_contact: str | None = None
    notes: list[str] = Field(default_factory=list)
    interfaces: list[SnmpInterfaceFacts] = Field(default_factory=list, max_length=MAX_INTERFACES)
