"""Bulk import and export of devices as CSV or YAML: the columns a network engineer's spreadsheet has.

All-or-nothing: every row is validated and every cross-reference (sites, credentials, uplinks by
name, cycles, scope) is checked before anything is written; errors name the line and the field.
Rows whose name exists update that device; columns absent from the file leave fields unchanged;
a blank ``credential`` cell keeps the current credential (private credentials cannot be exported).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.errors import Forbidden, ImportRejected, RegistryError, RowError
from device_registry.models import (
    Credential,
    Device,
    DeviceKind,
    DeviceSiteHistory,
    DeviceTag,
    DeviceUplink,
    Lifecycle,
    Protocol,
    Site,
)
from device_registry.models.devices import PRIVATE_PREFIX
from device_registry.models.types import utcnow
from device_registry.queries.devices import links_of
from device_registry.schemas.common import PlainText
from device_registry.schemas.devices import DeviceDetails, check_address, check_tags
from device_registry.services import audit
from device_registry.services.credentials import check_owner_covers, check_use
from device_registry.services.devices import WRITERS, device_snapshot, invisible_ids, move_device
from device_registry.text import fold

Format = Literal["csv", "yaml"]
COLUMNS = [
    "name",
    "kind",
    "site",
    "address",
    "port",
    "protocols",
    "credential",
    "uplinks",
    "tags",
    "lifecycle",
    "vendor",
    "model",
    "serial",
    "firmware",
    "description",
]
LIST_COLUMNS = {"protocols", "uplinks", "tags"}
REQUIRED = {"name", "kind", "site"}


class ImportRow(DeviceDetails):
    name: PlainText = Field(min_length=1, max_length=255)
    kind: DeviceKind
    site: str = Field(min_length=1)
    address: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    protocols: list[Protocol] = Field(default_factory=list)
    credential: str | None = None
    uplinks: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    lifecycle: Lifecycle = Lifecycle.ACTIVE

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return check_address(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return check_tags(value)


@dataclass
class ImportResult:
    dry_run: bool
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
        }


# ---------------------------------------------------------------- parsing


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP,
"CSV injection")."""


def formula_safe(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would evaluate (a camera reporting ``=HYPERLINK(…)`` as its
    manufacturer), and to a cell that already starts with ``'`` + trigger, so :func:`formula_unescape`
    restores every value exactly."""
    if cell[:1] in FORMULA_TRIGGERS or (cell[:1] == "'" and cell[1:2] in (*FORMULA_TRIGGERS, "'")):
        return "'" + cell
    return cell


def formula_unescape(cell: str) -> str:
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_TRIGGERS, "'"):
        return cell[1:]
    return cell


def _cell(value: Any, column: str) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return [] if column in LIST_COLUMNS else None
        if column in LIST_COLUMNS:
            return [part.strip() for part in value.split(";") if part.strip()]
    return value


def parse_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = REQUIRED - set(header)
    if unknown or missing:
        errors = [RowError(1, h, "unknown column") for h in unknown] + [
            RowError(1, m, "required column missing") for m in sorted(missing)
        ]
        raise ImportRejected(errors)
    rows = []
    line = 1
    for record in reader:
        line = reader.line_num
        if None in record:
            raise ImportRejected([RowError(line, "(row)", "more cells than header columns")])
        rows.append((line, {k: _cell(formula_unescape(v), k) for k, v in record.items() if v is not None}))
    return rows, header


def parse_yaml(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return [], []
        if isinstance(root, yaml.MappingNode):
            matches = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "devices"]
            if not matches:
                raise ImportRejected(
                    [RowError(root.start_mark.line + 1, "devices", "expected a list of devices")]
                )
            root = matches[0]
        if not isinstance(root, yaml.SequenceNode):
            raise ImportRejected(
                [RowError(root.start_mark.line + 1, "(document)", "expected a list of devices")]
            )
        rows = []
        seen: set[str] = set()
        for node in root.value:
            line = node.start_mark.line + 1
            value = loader.construct_document(node)
            if not isinstance(value, dict):
                raise ImportRejected([RowError(line, "(row)", "each device must be a mapping")])
            unknown = [k for k in value if k not in COLUMNS]
            if unknown:
                raise ImportRejected([RowError(line, str(k), "unknown field") for k in unknown])
            seen.update(value)
            rows.append((line, {k: (_cell(v, k) if isinstance(v, str) else v) for k, v in value.items()}))
        return rows, [c for c in COLUMNS if c in seen]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ImportRejected(
            [RowError((mark.line + 1) if mark else 0, "(yaml)", str(error).splitlines()[0])]
        ) from None
    finally:
        loader.dispose()


def parse(text: str, fmt: Format) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    return parse_csv(text) if fmt == "csv" else parse_yaml(text)


def detect_format(filename: str | None, content_type: str | None = None) -> Format:
    name = (filename or "").lower()
    if name.endswith((".yaml", ".yml")) or (content_type or "").endswith("yaml"):
        return "yaml"
    return "csv"


# ---------------------------------------------------------------- validation


@dataclass
class _Plan:
    rows: list[tuple[int, ImportRow]]
    sites: dict[str, Site]
    credentials: dict[str, int]
    existing: dict[str, Device]
    external_uplinks: dict[str, int]


def _chunks(values: Iterable[str], size: int = 5000) -> Iterable[list[str]]:
    """IN-lists in slices: SQLite and asyncpg both cap bound parameters near 32k."""
    items = sorted(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _has_cycle(edges: Mapping[Any, Iterable[Any]]) -> list[Any] | None:
    """An uplink cycle in the combined graph (file rows over the database), as a list of nodes."""
    state: dict[Any, int] = {}
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[Any, Iterable[Any]]] = [(start, iter(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(edges.get(child, ()))))
                    advanced = True
                    break
            if not advanced:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


async def _validate(
    session: AsyncSession,
    principal: Principal,
    raw_rows: list[tuple[int, dict[str, Any]]],
    columns: list[str],
    progress: Callable[[int, int], None],
) -> _Plan:
    errors: list[RowError] = []
    rows: list[tuple[int, ImportRow]] = []
    first_line: dict[str, int] = {}
    for index, (line, values) in enumerate(raw_rows, 1):
        if index % 1000 == 0:
            progress(index, 2 * len(raw_rows))
        try:
            row = ImportRow.model_validate(values)
        except ValidationError as error:
            for problem in error.errors():
                column = ".".join(str(p) for p in problem["loc"]) or "(row)"
                errors.append(RowError(line, column, problem["msg"]))
            continue
        if row.name in first_line:
            errors.append(RowError(line, "name", f"duplicate of line {first_line[row.name]}"))
            continue
        first_line[row.name] = line
        rows.append((line, row))

    site_codes = {row.site for _, row in rows}
    sites: dict[str, Site] = {}
    if site_codes:
        found: dict[str, list[Site]] = {}
        for chunk in _chunks(site_codes):
            for site in (await session.scalars(select(Site).where(Site.code.in_(chunk)))).all():
                found.setdefault(site.code, []).append(site)
        for code, candidates in found.items():
            open_sites = [s for s in candidates if s.valid_to is None]
            if len(open_sites) == 1:
                sites[code] = open_sites[0]
    credential_names = {row.credential for _, row in rows if row.credential}
    credential_rows: dict[str, Credential] = {}
    for chunk in _chunks(credential_names):
        found_rows = (await session.scalars(select(Credential).where(Credential.name.in_(chunk)))).all()
        credential_rows.update((c.name, c) for c in found_rows)
    # Shared credentials with an owner are few (one per community and site): all of them, to check that
    # a device moved by the file keeps a credential whose site still covers it.
    owned = {
        c.id: c
        for c in (await session.scalars(select(Credential).where(Credential.site_id.is_not(None)))).all()
    }
    owner_ids = {c.site_id for c in [*credential_rows.values(), *owned.values()] if c.site_id is not None}
    owners = {s.id: s for s in (await session.scalars(select(Site).where(Site.id.in_(owner_ids)))).all()}
    credentials = {name: c.id for name, c in credential_rows.items()}
    existing: dict[str, Device] = {}
    visible_existing: set[str] = set()
    for chunk in _chunks(first_line):
        found_devices = (await session.scalars(select(Device).where(Device.name.in_(chunk)))).all()
        existing.update((d.name, d) for d in found_devices)
        visible_query = select(Device.name).where(Device.name.in_(chunk), principal.device_clause())
        visible_existing.update((await session.scalars(visible_query)).all())
    external: dict[str, int] = {}
    for chunk in _chunks({u for _, row in rows for u in row.uplinks} - set(first_line)):
        query = select(Device.name, Device.id).where(Device.name.in_(chunk), principal.device_clause())
        external.update({name: id_ for name, id_ in (await session.execute(query)).all()})

    forbidden = False
    for line, row in rows:
        row_site = sites.get(row.site)
        if row_site is None:
            errors.append(
                RowError(line, "site", f"no open site with code {row.site!r} (or the code is ambiguous)")
            )
        elif not principal.site_in_scope(row_site):
            errors.append(RowError(line, "site", f"site {row.site} is outside your scope"))
            forbidden = True
        if row.credential and row.credential not in credentials:
            errors.append(RowError(line, "credential", f"no credential named {row.credential!r}"))
        elif not row.credential and row_site is not None and row.name in existing:
            kept = owned.get(existing[row.name].credential_id or 0)
            if kept is not None and kept.site_id is not None:
                try:
                    check_owner_covers(kept, owners.get(kept.site_id), row_site, "site")
                except RegistryError as error:
                    errors.append(RowError(line, "site", str(error).removeprefix("site: ")))
        elif row.credential and row_site is not None:
            cred = credential_rows[row.credential]
            device = existing.get(row.name)
            try:
                check_use(
                    principal,
                    cred,
                    owners.get(cred.site_id or 0),
                    row_site,
                    device.id if device is not None and row.name in visible_existing else None,
                    "credential",
                )
            except RegistryError as error:
                errors.append(RowError(line, "credential", str(error).removeprefix("credential: ")))
                forbidden |= isinstance(error, Forbidden)
        if row.name in existing and row.name not in visible_existing:
            errors.append(RowError(line, "name", "a device with this name exists outside your scope"))
            forbidden = True
        for uplink in row.uplinks:
            if uplink == row.name:
                errors.append(RowError(line, "uplinks", "a device cannot be its own uplink"))
            elif uplink not in first_line and uplink not in external:
                errors.append(
                    RowError(line, "uplinks", f"no device named {uplink!r} in the file or the registry")
                )

    if not errors and "uplinks" in columns:
        id_to_name = {d.id: d.name for d in existing.values()}
        edges: dict[Any, list[Any]] = {}
        db_edges = (await session.execute(select(DeviceUplink.device_id, DeviceUplink.uplink_id))).all()
        for device_id, uplink_id in db_edges:
            node = id_to_name.get(device_id, device_id)
            if isinstance(node, str):
                continue  # replaced by the file's row
            edges.setdefault(node, []).append(id_to_name.get(uplink_id, uplink_id))
        for _, row in rows:
            edges[row.name] = [
                u if u in first_line else id_to_name.get(external[u], external[u]) for u in row.uplinks
            ]
        cycle = _has_cycle(edges)
        if cycle:
            line = next((first_line[n] for n in cycle if isinstance(n, str) and n in first_line), 0)
            # Devices known only by id are outside the caller's view: never name their ids.
            path = " -> ".join(n if isinstance(n, str) else "(a device outside your scope)" for n in cycle)
            errors.append(RowError(line, "uplinks", "uplink cycle: " + path))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportRejected(errors, forbidden=forbidden)
    return _Plan(rows, sites, credentials, existing, external)


# ---------------------------------------------------------------- applying


_SCALARS = ("kind", "address", "port", "lifecycle", "vendor", "model", "serial", "firmware", "description")


def _no_progress(_done: int, _total: int) -> None:
    return None


async def import_devices(
    session: AsyncSession,
    principal: Principal,
    text: str,
    fmt: Format,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = _no_progress,
) -> ImportResult:
    """Validate the whole file, then write it in the caller's transaction. ``progress(done, total)``
    counts validation as the first half and writing as the second."""
    principal.require(*WRITERS, action="import devices")
    raw_rows, columns = parse(text, fmt)
    plan = await _validate(session, principal, raw_rows, columns, progress)
    progress(len(raw_rows), 2 * len(raw_rows))
    result = ImportResult(dry_run=dry_run, rows=len(plan.rows))
    present = set(columns)
    now = utcnow()

    new_rows = [row for _, row in plan.rows if row.name not in plan.existing]
    result.created = [row.name for row in new_rows]
    ids: dict[str, int] = {name: device.id for name, device in plan.existing.items()}
    ids.update(plan.external_uplinks)
    entries: list[dict[str, Any]] = []
    changed_ids: list[int] = []

    links = await links_of(session, [d.id for d in plan.existing.values()])
    name_of = {device_id: name for name, device_id in ids.items()}
    # Uplinks the caller cannot see were not in their export: keep them, never count them as changes.
    hidden = await invisible_ids(session, principal, {u for us in links.uplinks.values() for u in us})
    for _, row in plan.rows:
        device = plan.existing.get(row.name)
        if device is None:
            continue
        tags, uplinks = sorted(links.tags.get(device.id, [])), sorted(links.uplinks.get(device.id, []))
        before = device_snapshot(device, tags, uplinks)
        updates = {c: getattr(row, c) for c in _SCALARS if c in present}
        if "protocols" in present:
            updates["protocols"] = [str(p) for p in row.protocols]
        if row.credential:
            updates["credential_id"] = plan.credentials[row.credential]
        site = plan.sites[row.site]
        differs = any(getattr(device, k) != v for k, v in updates.items()) or site.id != device.site_id
        differs |= "tags" in present and sorted(row.tags) != tags
        differs |= "uplinks" in present and sorted(row.uplinks) != sorted(
            name_of.get(i, f"#{i}") for i in uplinks if i not in hidden
        )
        if not differs:
            result.unchanged += 1
            continue
        result.updated.append(row.name)
        if dry_run:
            continue
        for key, value in updates.items():
            setattr(device, key, value)
        if site.id != device.site_id:
            await move_device(session, device, site, "import", at=now)
        changed_ids.append(device.id)
        entries.append(
            audit.entry(
                principal,
                "update",
                "device",
                device.id,
                device.name,
                before,
                device_snapshot(device, row.tags if "tags" in present else tags, uplinks),
            )
        )
    if dry_run:
        return result

    if new_rows:
        values: list[dict[str, Any]] = [
            {
                "name": row.name,
                "name_folded": fold(row.name),
                "kind": row.kind,
                "protocols": [str(p) for p in row.protocols],
                "address": row.address,
                "port": row.port,
                "site_id": plan.sites[row.site].id,
                "vendor": row.vendor,
                "model": row.model,
                "serial": row.serial,
                "firmware": row.firmware,
                "lifecycle": row.lifecycle,
                "description": row.description,
                "credential_id": plan.credentials.get(row.credential or ""),
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
            for row in new_rows
        ]
        inserted = (await session.execute(insert(Device).returning(Device.id, Device.name), values)).all()
        ids.update({name: device_id for device_id, name in inserted})
        await session.execute(
            insert(DeviceSiteHistory),
            [
                {
                    "device_id": ids[row.name],
                    "site_id": plan.sites[row.site].id,
                    "valid_from": now,
                    "reason": "import",
                }
                for row in new_rows
            ],
        )
        entries.extend(
            audit.entry(
                principal,
                "create",
                "device",
                ids[row.name],
                row.name,
                None,
                {
                    "name": row.name,
                    "kind": str(row.kind),
                    "site_id": plan.sites[row.site].id,
                    "address": row.address,
                    "tags": row.tags,
                    "uplinks": row.uplinks,
                },
            )
            for row in new_rows
        )
    touched = [ids[name] for name in result.created] + changed_ids
    touched_rows = [row for _, row in plan.rows if ids[row.name] in set(touched)]
    if "tags" in present and touched:
        await session.execute(delete(DeviceTag).where(DeviceTag.device_id.in_(changed_ids)))
        tag_rows = [{"device_id": ids[row.name], "tag": tag} for row in touched_rows for tag in row.tags]
        if tag_rows:
            await session.execute(insert(DeviceTag), tag_rows)
    if "uplinks" in present and touched:
        await session.execute(
            delete(DeviceUplink).where(
                DeviceUplink.device_id.in_(changed_ids), DeviceUplink.uplink_id.not_in(hidden)
            )
        )
        link_rows = [
            {"device_id": ids[row.name], "uplink_id": ids[u]} for row in touched_rows for u in row.uplinks
        ]
        if link_rows:
            await session.execute(insert(DeviceUplink), link_rows)
    await audit.record_many(session, entries)
    await audit.record(session, principal, "import", "device", None, f"{fmt} import", None, result.as_dict())
    progress(2 * len(raw_rows), 2 * len(raw_rows))
    return result


# ---------------------------------------------------------------- export


async def export_devices(
    session: AsyncSession, principal: Principal, query_devices: list[Device], fmt: Format
) -> str:
    """The same columns the importer reads, so export -> import is a no-op. Uplinks outside the
    caller's scope are left out (their names are not the caller's to see; import keeps them). Cells
    that a spreadsheet would run as a formula are neutralised (:func:`formula_safe`)."""
    links = await links_of(session, [d.id for d in query_devices])
    names = dict((await session.execute(select(Device.id, Device.name))).all())
    hidden = await invisible_ids(session, principal, {u for us in links.uplinks.values() for u in us})
    site_codes = dict((await session.execute(select(Site.id, Site.code))).all())
    credential_names = {
        i: n
        for i, n in (await session.execute(select(Credential.id, Credential.name))).all()
        if not n.startswith(PRIVATE_PREFIX)
    }
    records = []
    for d in query_devices:
        records.append(
            {
                "name": d.name,
                "kind": str(d.kind),
                "site": site_codes[d.site_id],
                "address": d.address,
                "port": d.port,
                "protocols": list(d.protocols or []),
                "credential": credential_names.get(d.credential_id or -1),
                "uplinks": sorted(names[u] for u in links.uplinks.get(d.id, []) if u not in hidden),
                "tags": sorted(links.tags.get(d.id, [])),
                "lifecycle": str(d.lifecycle),
                "vendor": d.vendor,
                "model": d.model,
                "serial": d.serial,
                "firmware": d.firmware,
                "description": d.description,
            }
        )
    if fmt == "yaml":
        cleaned = [{k: v for k, v in r.items() if v not in (None, [])} for r in records]
        return yaml.safe_dump({"devices": cleaned}, allow_unicode=True, sort_keys=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(
            {
                k: formula_safe(";".join(v) if isinstance(v, list) else ("" if v is None else str(v)))
                for k, v in r.items()
            }
        )
    return out.getvalue()
