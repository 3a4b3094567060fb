"""Read side of the monitors for operations: state counts per site, device states, root outages.

Every query is limited to what the principal may see (``Principal.device_clause``), exactly like the
device list; a site is readable when it lies inside the principal's scope, above it (the path down to
it), or, for a frozen scope, holds one of the principal's devices. Anything else is "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.errors import NotFound
from device_registry.models import Device, Lifecycle, Site
from device_registry.queries.targets import WATCHED
from device_registry.schemas.devices import CheckResultPublic, DeviceStatePublic, OperState
from device_registry.services.sites import resolve_site
from monitors.models import DeviceStatusRow, Outage, OutageStateChange
from monitors.status_schemas import (
    AffectedPublic,
    OutagePublic,
    SiteBrief,
    SiteStatus,
    StateCounts,
    StatusPublic,
)

WORST_FIRST = (
    OperState.DOWN,
    OperState.UNREACHABLE,
    OperState.FLAPPING,
    OperState.SOFT_DOWN,
    OperState.UNKNOWN,
    OperState.MAINTENANCE,
    OperState.UP,
)


def effective_state(device: Any = Device) -> ColumnElement[str]:
    """SQL: the state operations see. Needs ``DeviceStatusRow`` outer-joined to ``device``."""
    return case(
        (
            or_(device.lifecycle == Lifecycle.MAINTENANCE.value, DeviceStatusRow.in_maintenance.is_(True)),
            literal(OperState.MAINTENANCE.value),
        ),
        (DeviceStatusRow.flapping.is_(True), literal(OperState.FLAPPING.value)),
        else_=func.coalesce(DeviceStatusRow.state, literal(OperState.UNKNOWN.value)),
    )


_WORST_FIRST_VALUES = tuple(s.value for s in WORST_FIRST)


def worst(counts: dict[str, int]) -> str | None:
    return next((s for s in _WORST_FIRST_VALUES if counts.get(s)), None)


# -- sites ---------------------------------------------------------------------------------------------


async def readable_site(session: AsyncSession, principal: Principal, ref: str, field: str = "site") -> Site:
    """The site named by ``ref``, or NotFound naming it (also when it lies outside the scope)."""
    site = await resolve_site(session, ref, field=field)
    if not await _site_visible(session, principal, site):
        raise NotFound(f"{field}: no site with code {ref!r}", field=field)
    return site


async def _site_visible(session: AsyncSession, principal: Principal, site: Site) -> bool:
    if principal.unscoped:
        return True
    if not principal.scope_frozen and principal.scope_path:
        return site_paths.related(site.path, principal.scope_path)
    found = await session.scalar(
        select(Device.id)
        .join(Site, Site.id == Device.site_id)
        .where(principal.device_clause(), site_paths.subtree(Site.path, site.path))
        .limit(1)
    )
    return found is not None


async def home_site(session: AsyncSession, principal: Principal) -> Site | None:
    """Where a principal's view starts: their scope site, else the one open top-level site (or None)."""
    if not principal.unscoped and principal.scope_site_id is not None:
        return await session.get(Site, principal.scope_site_id)
    tops = list(
        await session.scalars(select(Site).where(Site.parent_id.is_(None), Site.valid_to.is_(None)).limit(2))
    )
    return tops[0] if len(tops) == 1 else None


# -- counts --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """The columns of a site the views need: a page lists up to a thousand, ORM objects cost more."""

    id: int
    parent_id: int | None
    path: str
    kind: str
    code: str
    name: str
    latitude: float | None
    longitude: float | None
    valid_to: date | None


SITE_COLUMNS = (
    Site.id,
    Site.parent_id,
    Site.path,
    Site.kind,
    Site.code,
    Site.name,
    Site.latitude,
    Site.longitude,
    Site.valid_to,
)


@dataclass
class SiteCounts:
    site: Site | SiteInfo | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def public(self) -> SiteStatus:
        found = worst(self.counts)
        return SiteStatus(
            site=SiteBrief.of(self.site) if self.site is not None else None,
            counts=StateCounts(**self.counts, total=self.total),
            worst=OperState(found) if found else None,
        )


@dataclass
class StatusTree:
    """Counts for a site's subtree, for each of its children, and for each commune-level unit below it
    (the map); only devices the principal may see are counted."""

    root: SiteCounts
    children: list[SiteCounts]
    leaves: list[SiteCounts]


LEAF_KINDS = ("commune", "ward", "township")


async def status_tree(
    session: AsyncSession, principal: Principal, root: Site | None, *, with_leaves: bool = False
) -> StatusTree:
    """One grouped query over devices (per site and state), then the sums in Python per child."""
    state = effective_state()
    query = (
        select(Site.path, state, func.count())
        .select_from(Device)
        .join(Site, Site.id == Device.site_id)
        .outerjoin(DeviceStatusRow, DeviceStatusRow.device_id == Device.id)
        .where(Device.lifecycle.in_([str(x) for x in WATCHED]), principal.device_clause())
        .group_by(Site.path, state)
    )
    if root is not None:
        query = query.where(site_paths.subtree(Site.path, root.path))
    rows = (await session.execute(query)).all()
    depth = site_paths.depth(root.path) if root is not None else 0
    child_query = select(*SITE_COLUMNS).order_by(Site.name)
    child_query = (
        child_query.where(Site.parent_id == root.id)
        if root is not None
        else child_query.where(Site.parent_id.is_(None))
    )
    children = {str(r.id): SiteCounts(SiteInfo(*r)) for r in await session.execute(child_query)}
    leaves: dict[str, SiteCounts] = {}
    if with_leaves:
        leaf_query = select(*SITE_COLUMNS).where(Site.kind.in_(LEAF_KINDS), Site.valid_to.is_(None))
        if root is not None:
            leaf_query = leaf_query.where(site_paths.subtree(Site.path, root.path))
        leaves = {str(r.id): SiteCounts(SiteInfo(*r)) for r in await session.execute(leaf_query)}
    total = SiteCounts(root)
    for path, state_value, count in rows:
        total.counts[state_value] = total.counts.get(state_value, 0) + count
        segments = [str(i) for i in site_paths.decode(path)]
        if len(segments) > depth:
            child = children.get(segments[depth])
            if child is not None:
                child.counts[state_value] = child.counts.get(state_value, 0) + count
        for segment in reversed(segments):
            leaf = leaves.get(segment)
            if leaf is not None:
                leaf.counts[state_value] = leaf.counts.get(state_value, 0) + count
                break
    return StatusTree(
        total,
        sorted((c for c in children.values() if _shown(principal, c)), key=_worst_first),
        [leaf for leaf in leaves.values() if _shown(principal, leaf)],
    )


def _worst_first(entry: SiteCounts) -> tuple[int, str]:
    """Sites in trouble first (down, then unreachable, ...), then the healthy, then the empty; by name."""
    found = worst(entry.counts)
    rank = _WORST_FIRST_VALUES.index(found) if found else len(_WORST_FIRST_VALUES)
    return rank, entry.site.name if entry.site is not None else ""


def _shown(principal: Principal, entry: SiteCounts) -> bool:
    """A site with visible devices, or an open one inside (or above) a live scope; no query needed,
    since a frozen scope sees exactly the sites that hold its devices, and those have counts."""
    if entry.total:
        return True
    site = entry.site
    if site is None or site.valid_to is not None:
        return False
    if principal.unscoped:
        return True
    if principal.scope_frozen or not principal.scope_path:
        return False
    return site_paths.related(site.path, principal.scope_path)


async def status_view(
    session: AsyncSession, principal: Principal, site: str | None, *, communes: bool = False
) -> StatusPublic:
    """``GET /api/v1/status`` and ``ioc status``: the site (or the principal's home) with its children."""
    root = await readable_site(session, principal, site) if site else await home_site(session, principal)
    tree = await status_tree(session, principal, root, with_leaves=communes)
    return StatusPublic(
        **tree.root.public().model_dump(),
        children=[c.public() for c in tree.children],
        communes=[c.public() for c in tree.leaves] if communes else None,
    )


# -- device states -------------------------------------------------------------------------------------


def _state_public(device: Device, row: DeviceStatusRow | None) -> DeviceStatePublic:
    if device.lifecycle == Lifecycle.MAINTENANCE.value or (row is not None and row.in_maintenance):
        state = OperState.MAINTENANCE
    elif row is not None and row.flapping:
        state = OperState.FLAPPING
    elif row is not None and device.lifecycle in [str(x) for x in WATCHED]:
        state = OperState(row.state)
    else:
        state = OperState.UNKNOWN
    return DeviceStatePublic(
        state=state,
        since=row.since if row else None,
        checked_at=row.checked_at if row else None,
        reason=row.reason if row else "",
        root_cause_device_id=row.root_cause_device_id if row else None,
        checks=[CheckResultPublic(**c) for c in (row.checks if row else [])],
    )


class SqlDeviceStates:
    """Implements ``device_registry.queries.devices.DeviceStateSource`` from ``monitor_device_status``."""

    async def states(self, session: AsyncSession, devices: Sequence[Device]) -> dict[int, DeviceStatePublic]:
        ids = [d.id for d in devices]
        rows: dict[int, DeviceStatusRow] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for row in await session.scalars(
                select(DeviceStatusRow).where(DeviceStatusRow.device_id.in_(chunk))
            ):
                rows[row.device_id] = row
        return {d.id: _state_public(d, rows.get(d.id)) for d in devices}

    def clause(self, states: Sequence[OperState]) -> ColumnElement[bool]:
        inner = aliased(Device)
        return Device.id.in_(
            select(inner.id)
            .outerjoin(DeviceStatusRow, DeviceStatusRow.device_id == inner.id)
            .where(effective_state(inner).in_([s.value for s in states]))
        )


# -- outages -------------------------------------------------------------------------------------------


async def root_outages(
    session: AsyncSession,
    principal: Principal,
    *,
    open_only: bool,
    root: Site | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    now: datetime,
) -> list[OutagePublic]:
    """Root outages (the device is its own root cause) of visible devices, newest first, with the
    devices cut off behind each (outages attributed to it that overlap it) and its alert. With ``root``:
    those of devices in its subtree, and those that cut off devices in its subtree."""
    from monitors.alerting.models import Alert  # alerting is the monitors' sub-package

    query = (
        select(Outage, Device, Site)
        .join(Device, Device.id == Outage.device_id)
        .join(Site, Site.id == Device.site_id)
        .where(
            or_(Outage.root_cause_device_id == Outage.device_id, Outage.root_cause_device_id.is_(None)),
            principal.device_clause(),
        )
    )
    if open_only:
        query = query.where(Outage.ended_at.is_(None))
    if start is not None:
        # An open outage lasts until now, not into the future.
        still_open = Outage.ended_at.is_(None) if start < now else false()
        query = query.where(or_(still_open, Outage.ended_at > start))
    if end is not None:
        query = query.where(Outage.started_at < end)
    if root is not None:
        # A commune's view includes the district switch that cut its devices off.
        behind_here = aliased(Outage)
        cut_off_here = (
            select(behind_here.root_cause_device_id)
            .join(Device, Device.id == behind_here.device_id)
            .join(Site, Site.id == Device.site_id)
            .where(
                site_paths.subtree(Site.path, root.path),
                behind_here.root_cause_device_id != behind_here.device_id,
            )
        )
        query = query.where(or_(site_paths.subtree(Site.path, root.path), Outage.device_id.in_(cut_off_here)))
    found = (
        await session.execute(query.order_by(Outage.started_at.desc(), Outage.id.desc()).limit(limit))
    ).all()
    if not found:
        return []
    root_devices = {outage.device_id for outage, _, _ in found}
    child = aliased(Outage)
    affected_rows = (
        await session.execute(
            select(child, Device, Site)
            .join(Device, Device.id == child.device_id)
            .join(Site, Site.id == Device.site_id)
            .where(
                child.root_cause_device_id.in_(root_devices),
                child.device_id != child.root_cause_device_id,
                principal.device_clause(),
            )
            .order_by(Device.name)
        )
    ).all()
    alerts: dict[int, Alert] = {
        a.outage_id: a
        for a in await session.scalars(
            select(Alert).where(Alert.outage_id.in_([o.id for o, _, _ in found])).order_by(Alert.id)
        )
        if a.outage_id is not None
    }
    result = []
    for outage, device, site in found:
        affected = [
            AffectedPublic(
                device_id=d.id,
                name=d.name,
                kind=str(d.kind),
                site_code=s.code,
                state=o.state,
                since=o.started_at,
            )
            for o, d, s in affected_rows
            if o.root_cause_device_id == outage.device_id
            and (outage.ended_at is None or o.started_at < outage.ended_at)
            and (o.ended_at is None or o.ended_at >= outage.started_at)
        ]
        alert = alerts.get(outage.id)
        result.append(
            OutagePublic(
                id=outage.id,
                device_id=device.id,
                device_name=device.name,
                device_kind=str(device.kind),
                site_code=site.code,
                site_name=site.name,
                state=outage.state,
                start=outage.started_at,
                end=outage.ended_at,
                duration_s=round(((outage.ended_at or now) - outage.started_at).total_seconds(), 3),
                reason=outage.reason,
                affected_count=len(affected),
                affected=affected,
                alert_id=alert.id if alert else None,
                alert_status=alert.status if alert else None,
            )
        )
    return result


@dataclass
class HistoryItem:
    outage_id: int
    state: str
    at: datetime
    reason: str


async def state_history(session: AsyncSession, device_id: int, limit: int = 50) -> list[HistoryItem]:
    """The device's recorded state changes (from its outage records), newest first."""
    rows = await session.execute(
        select(OutageStateChange)
        .join(Outage, Outage.id == OutageStateChange.outage_id)
        .where(Outage.device_id == device_id)
        .order_by(OutageStateChange.at.desc(), OutageStateChange.id.desc())
        .limit(limit)
    )
    return [HistoryItem(h.outage_id, h.state, h.at, h.reason) for h in rows.scalars()]


async def visible_device_name(session: AsyncSession, principal: Principal, device_id: int) -> str | None:
    """A device's name if the principal may see it (a root cause in another scope stays anonymous)."""
    found = await session.scalar(select(Device.name).where(Device.id == device_id, principal.device_clause()))
    return str(found) if found is not None else None


__all__ = [
    "LEAF_KINDS",
    "WORST_FIRST",
    "HistoryItem",
    "SiteCounts",
    "SqlDeviceStates",
    "StatusTree",
    "effective_state",
    "home_site",
    "readable_site",
    "root_outages",
    "site_chain",
    "state_history",
    "status_tree",
    "status_view",
    "visible_device_name",
    "worst",
]


async def site_chain(session: AsyncSession, site: Site) -> list[Site]:
    """The site's ancestors and itself, top first (the page's breadcrumbs). Every ancestor of a site a
    principal may read is readable too (it contains what the principal sees)."""
    ids = site_paths.decode(site.path)
    found = {s.id: s for s in await session.scalars(select(Site).where(Site.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
