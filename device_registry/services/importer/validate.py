"""Validating parsed import rows against each other and the registry, before anything is written.

Every cross-reference (sites, credentials, uplinks by name, cycles, scope) is resolved with one query per
table per batch; errors name the line and the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.errors import Forbidden, ImportRejected, RegistryError, RowError
from device_registry.models import Credential, Device, DeviceKind, Lifecycle, Protocol, Site
from device_registry.schemas.common import PlainText
from device_registry.schemas.devices import DeviceDetails, check_address, check_tags
from device_registry.services.credentials import check_owner_covers, check_use
from device_registry.services.devices import chunks, find_cycle, uplink_edges


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
class Plan:
    rows: list[tuple[int, ImportRow]]
    sites: dict[str, Site]
    credentials: dict[str, int]
    existing: dict[str, Device]
    external_uplinks: dict[str, int]


async def validate(
    session: AsyncSession,
    principal: Principal,
    raw_rows: list[tuple[int, dict[str, Any]]],
    columns: list[str],
    progress: Callable[[int, int], None],
) -> Plan:
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
        for chunk in chunks(site_codes):
            for site in (await session.scalars(select(Site).where(Site.code.in_(chunk)))).all():
                found.setdefault(site.code, []).append(site)
        for code, candidates in found.items():
            open_sites = [s for s in candidates if s.valid_to is None]
            if len(open_sites) == 1:
                sites[code] = open_sites[0]
    credential_names = {row.credential for _, row in rows if row.credential}
    credential_rows: dict[str, Credential] = {}
    for chunk in chunks(credential_names):
        found_rows = (await session.scalars(select(Credential).where(Credential.name.in_(chunk)))).all()
        credential_rows.update((c.name, c) for c in found_rows)
    credential_rows = await _without_hidden_private(session, principal, credential_rows)
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
    for chunk in chunks(first_line):
        found_devices = (await session.scalars(select(Device).where(Device.name.in_(chunk)))).all()
        existing.update((d.name, d) for d in found_devices)
        visible_query = select(Device.name).where(Device.name.in_(chunk), principal.device_clause())
        visible_existing.update((await session.scalars(visible_query)).all())
    external: dict[str, int] = {}
    for chunk in chunks({u for _, row in rows for u in row.uplinks} - set(first_line)):
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
        for device_id, uplink_ids in (await uplink_edges(session)).items():
            node = id_to_name.get(device_id, device_id)
            if isinstance(node, str):
                continue  # replaced by the file's row
            edges[node] = [id_to_name.get(u, u) for u in uplink_ids]
        for _, row in rows:
            edges[row.name] = [
                u if u in first_line else id_to_name.get(external[u], external[u]) for u in row.uplinks
            ]
        cycle = find_cycle(edges)
        if cycle:
            line = next((first_line[n] for n in cycle if isinstance(n, str) and n in first_line), 0)
            # Devices known only by id are outside the caller's view: never name their ids.
            path = " -> ".join(n if isinstance(n, str) else "(a device outside your scope)" for n in cycle)
            errors.append(RowError(line, "uplinks", "uplink cycle: " + path))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportRejected(errors, forbidden=forbidden)
    return Plan(rows, sites, credentials, existing, external)


async def _without_hidden_private(
    session: AsyncSession, principal: Principal, rows: dict[str, Credential]
) -> dict[str, Credential]:
    """Drop the private credentials of devices the principal cannot see: to them ``device/N`` does not
    exist, the same answer as for an id no device has (see ``services.credentials``)."""
    owners = {c.private_owner for c in rows.values() if c.private_owner is not None}
    if not owners or principal.unscoped:
        return rows
    query = select(Device.id).where(Device.id.in_(owners), principal.device_clause())
    visible = set((await session.scalars(query)).all())
    return {n: c for n, c in rows.items() if c.private_owner is None or c.private_owner in visible}
