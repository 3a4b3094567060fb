"""Read a few columns of one SNMP table (plus scalars) over the v1/v2c fast path, two ways.

* :meth:`FastTableReader.walk`: multi-column GETBULK (v1: GETNEXT) with the scalars as non-repeaters,
  usually one round trip when ``max_repetitions`` follows the row count. Learns the layout.
* :meth:`FastTableReader.get`: exact GETs of the cells a walk found, from request templates encoded
  once per layout (:class:`TablePlan`); answers are matched to cells by comparing OID bytes, so nothing
  is decoded but the values.

Both fill ``values[column][row index] = value`` directly; a missing cell (noSuchInstance...) is not
stored. Only single-arc row indexes are kept (ifIndex-style tables), others are walked past.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from device_registry.credentials import SnmpCommunityCredential
from provisioning.errors import DeviceError, MalformedResponse
from provisioning.snmp.ber import (
    MISSING_TAGS,
    PDU_GET,
    PDU_GETBULK,
    PDU_GETNEXT,
    TAG_END_OF_MIB_VIEW,
    Oid,
    RequestTemplate,
    decode_arcs,
    decode_oid,
    encode_oid,
)
from provisioning.snmp.fast import FastSnmp, raise_for_status
from provisioning.snmp.models import SnmpEndpoint

Value = int | bytes | Oid | str | None
_INDEX_CACHE = 1 << 16  # cell OIDs remembered by the walk (~10 MiB at most); cleared when full
Cells = dict[str, dict[int, Value]]


@dataclass(slots=True)
class TableRead:
    values: Cells
    scalars: list[Value]
    rtt_ms: float
    complete: bool = True
    stopped: str | None = None


@dataclass(slots=True)
class TablePlan:
    """What a complete walk found, with the GET requests for exactly those cells, encoded once."""

    cells: tuple[tuple[str, int], ...]
    gets: list[RequestTemplate]
    """GET requests in cell order; a request an agent finds too big is split in two, here, for good."""
    target: tuple[str, int, int, bytes]
    """Host, port, wire version and community the templates were encoded for."""
    scalars: tuple[Value, ...]
    polls: int = 0
    """Polls served since the cells were last seen to change (walks and GETs alike)."""


def wire_version(endpoint: SnmpEndpoint) -> tuple[int, bytes]:
    cred = endpoint.credential
    if not isinstance(cred, SnmpCommunityCredential):
        raise TypeError("the fast path is for v1/v2c community credentials only")
    return (0 if cred.version == "1" else 1), cred.community.get_secret_value().encode()


def _halves(template: RequestTemplate) -> list[RequestTemplate]:
    """The same GET as two requests (after ``tooBig``), rebuilt from the template's own OIDs."""
    oids = [decode_oid(raw) for raw in template.oids]
    half = len(oids) // 2
    return [
        RequestTemplate.build(template.version, template.community, PDU_GET, part)
        for part in (oids[:half], oids[half:])
    ]


class FastTableReader:
    def __init__(
        self,
        fast: FastSnmp,
        columns: Mapping[str, Oid],
        scalars: Sequence[Oid],
        *,
        max_rows: int = 1024,
        max_get_varbinds: int = 60,
    ) -> None:
        self.fast = fast
        self.names = tuple(columns)
        self.columns = tuple(columns.values())
        self.prefixes = tuple(encode_oid(c) for c in self.columns)
        self.scalars = tuple(scalars)
        self._scalar_bytes = tuple(encode_oid(s) for s in self.scalars)
        self.max_rows = max_rows
        self.max_get_varbinds = max_get_varbinds
        self._indexes: dict[bytes, tuple[int, Oid]] = {}
        """Cell OID bytes -> (column, row index) seen in walks: devices of one model share their ifIndex
        values, so most cells of a walk are a dict hit instead of a prefix check and an arc decode."""

    async def walk(self, endpoint: SnmpEndpoint, repetitions: int) -> TableRead:
        version, community = wire_version(endpoint)
        values: Cells = {name: {} for name in self.names}
        last: list[Oid] = [() for _ in self.columns]
        open_cols = list(range(len(self.columns)))
        scalars: list[Value] = [None] * len(self.scalars)
        first = True
        started = time.perf_counter()
        rtt_ms = 0.0
        reps = max(1, repetitions)
        deadline = time.monotonic() + endpoint.worst_case_s * 4
        read = TableRead(values, scalars, 0.0)
        while open_cols:
            rows = max((len(v) for v in values.values()), default=0)
            if rows >= self.max_rows or time.monotonic() > deadline:
                read.complete, read.stopped = False, f"stopped after {rows} rows"
                break
            nonrep = len(self.scalars) if first else 0
            oids = [s[:-1] for s in self.scalars] if first else []
            oids += [(*self.columns[c], *last[c]) for c in open_cols]
            pdu = PDU_GETBULK if version else PDU_GETNEXT
            template = RequestTemplate.build(
                version, community, pdu, oids, non_repeaters=nonrep, max_repetitions=reps
            )
            try:
                response = await self.fast.request(
                    endpoint.host, endpoint.port, template, per_try=endpoint.timeout, retries=endpoint.retries
                )
            except DeviceError as error:
                if first:
                    raise
                read.complete, read.stopped = False, f"walk interrupted: {error}"
                break
            rtt_ms = rtt_ms or (time.perf_counter() - started) * 1000
            if response.error_status:
                name = response.error_name
                if name == "tooBig" and reps > 1:
                    reps //= 2
                    continue
                if name == "noSuchName" and version == 0 and response.error_index > nonrep:
                    del open_cols[response.error_index - nonrep - 1]  # v1: this column is at its end
                    continue
                raise_for_status(response, endpoint.label, oids)
            varbinds = response.varbinds
            if first:
                for k, (raw, tag, value) in enumerate(varbinds[:nonrep]):
                    if raw == self._scalar_bytes[k] and tag not in MISSING_TAGS:
                        scalars[k] = value
                varbinds = varbinds[nonrep:]
                first = False
            if not varbinds:
                read.complete, read.stopped = False, "agent answered an empty PDU"
                break
            width = len(open_cols)
            closed: set[int] = set()
            indexes = self._indexes
            for position, (raw, tag, value) in enumerate(varbinds):
                col = open_cols[position % width]
                if col in closed:
                    continue
                known = indexes.get(raw)
                if known is not None and known[0] == col and tag != TAG_END_OF_MIB_VIEW:
                    index = known[1]
                else:
                    prefix = self.prefixes[col]
                    if tag == TAG_END_OF_MIB_VIEW or len(raw) <= len(prefix) or not raw.startswith(prefix):
                        closed.add(col)
                        continue
                    index = decode_arcs(raw[len(prefix) :])
                    if len(indexes) >= _INDEX_CACHE:
                        indexes.clear()
                    indexes[raw] = (col, index)
                if index <= last[col]:
                    read.complete, read.stopped = False, "agent went backwards"
                    closed.add(col)
                    continue
                last[col] = index
                if len(index) == 1 and tag not in MISSING_TAGS:
                    values[self.names[col]][index[0]] = value
            open_cols = [c for c in open_cols if c not in closed]
        read.rtt_ms = rtt_ms
        return read

    @staticmethod
    def fits(plan: TablePlan, endpoint: SnmpEndpoint) -> bool:
        """False when the device's address or credential changed since ``plan`` was encoded."""
        return plan.target == (endpoint.host, endpoint.port, *wire_version(endpoint))

    def plan(self, endpoint: SnmpEndpoint, read: TableRead, previous: TablePlan | None) -> TablePlan:
        """GET templates for the cells ``read`` found; the previous plan's when the cells are the same."""
        cells = tuple((name, index) for name in self.names for index in read.values[name])
        version, community = wire_version(endpoint)
        target = (endpoint.host, endpoint.port, version, community)
        if previous is not None and previous.cells == cells and previous.target == target:
            return TablePlan(cells, previous.gets, target, tuple(read.scalars), previous.polls)
        oids = list(self.scalars) + [(*self.columns[self.names.index(name)], index) for name, index in cells]
        step = self.max_get_varbinds
        gets = [
            RequestTemplate.build(version, community, PDU_GET, oids[offset : offset + step])
            for offset in range(0, len(oids), step)
        ]
        return TablePlan(cells, gets, target, tuple(read.scalars))

    async def get(self, endpoint: SnmpEndpoint, plan: TablePlan) -> TableRead | None:
        """Exact GETs of ``plan``'s cells; None when a cell vanished or a scalar that was there is not."""
        values: Cells = {name: {} for name in self.names}
        scalars: list[Value] = []
        cells = plan.cells
        started = time.perf_counter()
        rtt_ms = 0.0
        position = -len(self.scalars)
        k = 0
        while k < len(plan.gets):
            template = plan.gets[k]
            response = await self.fast.request(
                endpoint.host, endpoint.port, template, per_try=endpoint.timeout, retries=endpoint.retries
            )
            rtt_ms = rtt_ms or (time.perf_counter() - started) * 1000
            if response.error_status:
                if response.error_name == "noSuchName":
                    return None  # v1: a cell is gone
                if response.error_name == "tooBig" and len(template.oids) > 1:
                    plan.gets[k : k + 1] = _halves(template)  # this agent's limit: kept for next polls
                    continue
                raise_for_status(response, endpoint.label, template.oids)
            k += 1
            varbinds = response.varbinds
            if len(varbinds) != len(template.oids):
                raise MalformedResponse(f"{endpoint.label}: {len(varbinds)} answers to {len(template.oids)}")
            for expected, (raw, tag, value) in zip(template.oids, varbinds, strict=True):
                if raw != expected:
                    raise MalformedResponse(f"{endpoint.label}: answer for an OID that was not asked")
                if position < 0:
                    if tag in MISSING_TAGS and plan.scalars[len(scalars)] is not None:
                        return None
                    scalars.append(None if tag in MISSING_TAGS else value)
                else:
                    if tag in MISSING_TAGS:
                        return None
                    name, index = cells[position]
                    values[name][index] = value
                position += 1
        return TableRead(values, scalars, rtt_ms)
