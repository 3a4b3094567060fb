"""Loading Vietnam's units into the site tree and applying the 2025 reform to it.

The reform never deletes: old province, districts and communes are closed on the effective date and
linked to their successors; buildings below an old commune are re-parented to its successor; devices
move to the new commune with a history row, so every device's past location stays answerable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.errors import InvalidInput, NotFound
from device_registry.models import Device, Site, SiteKind, SiteSuccession
from device_registry.models.types import utcnow
from device_registry.services import audit
from device_registry.services.devices import move_device
from device_registry.services.sites import close_sites, freeze_scopes, reparent_site
from device_registry.text import fold
from device_registry.vn import data as vn

REFORM_2025_EFFECTIVE = date(2025, 7, 1)
Progress = Callable[[int, int], None]
"""Called with (done, total) as work advances; the CLI draws a progress bar from it."""


def _noop(_done: int, _total: int) -> None:
    return None


async def _find(session: AsyncSession, version: str, code: str) -> Site | None:
    return await session.scalar(
        select(Site).where(Site.code_scheme == vn.SCHEME, Site.code_version == version, Site.code == code)
    )


async def _upsert(
    session: AsyncSession,
    version: str,
    unit: vn.Unit,
    kind: SiteKind,
    parent: Site | None,
    valid_from: date | None,
) -> tuple[Site, bool]:
    site = await _find(session, version, unit.code)
    created = site is None
    if site is None:
        site = Site(
            code_scheme=vn.SCHEME,
            code_version=version,
            code=unit.code,
            kind=kind,
            valid_from=valid_from,
            parent_id=parent.id if parent else None,
            depth=(parent.depth + 1) if parent else 0,
        )
        session.add(site)
    site.name, site.name_folded, site.admin_type = unit.name, fold(unit.name), unit.admin_type
    site.latitude, site.longitude = unit.lat, unit.lon
    if created:
        await session.flush()
        site.path = site_paths.child(parent.path if parent else None, site.id)
    return site, created


@dataclass
class LoadSummary:
    province: str
    province_name: str
    districts: int = 0
    communes: int = 0
    created: int = 0
    source: str = ""


async def load_legacy_province(
    session: AsyncSession, principal: Principal, code: str, progress: Progress = _noop
) -> LoadSummary:
    principal.require_admin("load administrative units")
    try:
        province_unit, districts = await asyncio.to_thread(vn.legacy_province, code)
    except KeyError:
        raise NotFound(f"province: no pre-2025 province with code {code!r}", field="province") from None
    total = 1 + sum(1 + len(wards) for _, wards in districts)
    summary = LoadSummary(province=code, province_name=province_unit.name, source=vn.source())
    province, created = await _upsert(session, vn.LEGACY, province_unit, SiteKind.PROVINCE, None, None)
    summary.created += created
    done = 1
    for district_unit, wards in districts:
        district, created = await _upsert(
            session, vn.LEGACY, district_unit, SiteKind.DISTRICT, province, None
        )
        summary.created += created
        summary.districts += 1
        for ward in wards:
            _, created = await _upsert(
                session, vn.LEGACY, ward, vn.ward_kind(ward.admin_type), district, None
            )
            summary.created += created
            summary.communes += 1
        done += 1 + len(wards)
        progress(done, total)
    await audit.record(
        session,
        principal,
        "load",
        "site",
        province.id,
        province.name,
        None,
        {"source": summary.source, "created": summary.created, "communes": summary.communes},
    )
    return summary


@dataclass
class ReformSummary:
    legacy_province: str
    new_provinces: list[str] = field(default_factory=list)
    already_applied: bool = False
    new_units_created: int = 0
    successions: int = 0
    sites_closed: int = 0
    sites_reparented: int = 0
    devices_moved: int = 0
    users_frozen: int = 0


async def _ensure_2025_province(
    session: AsyncSession, code: str, effective: date
) -> tuple[Site, dict[str, Site], int]:
    province_unit, wards = await asyncio.to_thread(vn.province_2025, code)
    province, created = await _upsert(session, vn.V2025, province_unit, SiteKind.PROVINCE, None, effective)
    count = int(created)
    by_code: dict[str, Site] = {}
    for ward in wards:
        site, created = await _upsert(
            session, vn.V2025, ward, vn.ward_kind(ward.admin_type), province, effective
        )
        by_code[ward.code] = site
        count += created
    return province, by_code, count


async def apply_reform_2025(
    session: AsyncSession,
    principal: Principal,
    legacy_code: str,
    effective: date = REFORM_2025_EFFECTIVE,
    progress: Progress = _noop,
) -> ReformSummary:
    principal.require_admin("apply a re-organisation")
    summary = ReformSummary(legacy_province=legacy_code)
    old_province = await _find(session, vn.LEGACY, legacy_code)
    if old_province is None:
        raise NotFound(
            f"province: {legacy_code} is not loaded; run `ioc sites load-vn --province {legacy_code}` first",
            field="province",
        )
    if old_province.valid_to is not None:
        summary.already_applied = True
        return summary
    old_units = list(
        (
            await session.scalars(
                select(Site).where(
                    site_paths.subtree(Site.path, old_province.path),
                    Site.code_scheme == vn.SCHEME,
                    Site.code_version == vn.LEGACY,
                )
            )
        ).all()
    )
    old_wards = [s for s in old_units if s.depth == old_province.depth + 2]
    codes = [w.code for w in old_wards]
    by_code = await asyncio.to_thread(lambda: {code: vn.successors_2025(code) for code in codes})
    mapping = {w.id: by_code[w.code] for w in old_wards}
    unmapped = [w.code for w, succ in ((w, mapping[w.id]) for w in old_wards) if not succ]
    if unmapped:
        raise InvalidInput(
            f"province: no 2025 successor known for communes {unmapped[:10]}", field="province"
        )

    new_provinces: dict[str, tuple[Site, dict[str, Site]]] = {}
    for code in sorted({s.province_code for succ in mapping.values() for s in succ}):
        province, wards, created = await _ensure_2025_province(session, code, effective)
        new_provinces[code] = (province, wards)
        summary.new_units_created += created
    summary.new_provinces = sorted(new_provinces)
    main_province = new_provinces[summary.new_provinces[0]][0]

    # Where each closing unit's contents go: communes to their primary successor, others to the province.
    target: dict[int, Site] = {}

    def succeed(old: Site, new: Site, primary: bool) -> None:
        session.add(
            SiteSuccession(
                predecessor_id=old.id,
                successor_id=new.id,
                effective=effective,
                reason="reform-2025",
                is_primary=primary,
            )
        )
        summary.successions += 1
        if primary:
            target[old.id] = new

    for ward in old_wards:
        for succ in mapping[ward.id]:
            succeed(ward, new_provinces[succ.province_code][1][succ.ward_code], succ.primary)
    for unit in old_units:
        if unit.id not in target:
            succeed(unit, main_province, True)

    closing_ids = {u.id for u in old_units}
    summary.users_frozen = len(await freeze_scopes(session, closing_ids))

    buildings = (
        await session.scalars(
            select(Site).where(Site.parent_id.in_(closing_ids), Site.id.notin_(closing_ids))
        )
    ).all()
    for building in buildings:
        assert building.parent_id is not None
        await reparent_site(session, principal, building, target[building.parent_id])
        summary.sites_reparented += 1

    devices = (
        await session.scalars(select(Device).where(Device.site_id.in_(closing_ids)).order_by(Device.id))
    ).all()
    moved_at = max(utcnow(), datetime(effective.year, effective.month, effective.day, tzinfo=UTC))
    entries: list[dict[str, Any]] = []
    for index, device in enumerate(devices, 1):
        old_site_id = device.site_id
        new_site = target[old_site_id]
        await move_device(session, device, new_site, "reform-2025", at=moved_at)
        entries.append(
            audit.entry(
                principal,
                "move",
                "device",
                device.id,
                device.name,
                {"site_id": old_site_id},
                {"site_id": new_site.id, "reason": "reform-2025"},
            )
        )
        if index % 500 == 0:
            progress(index, len(devices))
    summary.devices_moved = len(devices)
    await audit.record_many(session, entries)

    await close_sites(session, principal, old_units, effective, "reform-2025")
    summary.sites_closed = len(old_units)
    await audit.record(
        session,
        principal,
        "reform",
        "site",
        old_province.id,
        old_province.name,
        None,
        {k: v for k, v in summary.__dict__.items()},
    )
    progress(len(devices), len(devices))
    return summary
