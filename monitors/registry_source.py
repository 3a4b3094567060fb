"""What the monitors need from the registry, read in one pass: targets, uplinks, the site tree.

Lifecycle decides who is watched: ACTIVE and MAINTENANCE devices are checked (a device in MAINTENANCE
is checked and recorded but never alerted, like a maintenance window); PLANNED and RETIRED are not.
A device's own interval comes from ``attributes["check_interval_s"]`` when set, else its kind's policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import Device, DeviceUplink, Lifecycle, Site
from device_registry.services.sites import resolve_site
from device_registry.targets import DeviceTarget
from monitors.checks.defaults import default_checks
from monitors.checks.mqtt_freshness import LastSeen
from monitors.scheduler import MonitoredDevice
from monitors.topology import Topology

log = logging.getLogger(__name__)

WATCHED = (Lifecycle.ACTIVE.value, Lifecycle.MAINTENANCE.value)
INTERVAL_ATTRIBUTE = "check_interval_s"


@dataclass(frozen=True)
class RegistrySnapshot:
    targets: list[DeviceTarget]
    intervals: dict[int, float]
    topology: Topology
    site_of: dict[int, int]
    site_parent: dict[int, int | None]
    in_maintenance: frozenset[int] = field(default_factory=frozenset)
    """Devices whose lifecycle is MAINTENANCE."""


async def site_tree(session: AsyncSession) -> tuple[dict[int, int | None], dict[int, str]]:
    rows = (await session.execute(select(Site.id, Site.parent_id, Site.code))).all()
    return {r.id: r.parent_id for r in rows}, {r.id: r.code for r in rows}


def _codes(site_id: int, parent: dict[int, int | None], code: dict[int, str]) -> tuple[str, ...]:
    chain: list[str] = []
    current: int | None = site_id
    while current is not None and len(chain) < 32:
        chain.append(code[current])
        current = parent.get(current)
    return tuple(reversed(chain))


async def load_snapshot(session: AsyncSession) -> RegistrySnapshot:
    parent, code = await site_tree(session)
    devices = (await session.scalars(select(Device).where(Device.lifecycle.in_(WATCHED)))).all()
    watched = {d.id for d in devices}
    uplinks: dict[int, list[int]] = {}
    for device_id, uplink_id in (
        await session.execute(select(DeviceUplink.device_id, DeviceUplink.uplink_id))
    ).all():
        if device_id in watched:
            uplinks.setdefault(device_id, []).append(uplink_id)
    targets, intervals = [], {}
    for d in devices:
        targets.append(
            DeviceTarget(
                device_id=d.id,
                name=d.name,
                kind=str(d.kind),
                address=d.address or "",
                port=d.port,
                site_codes=_codes(d.site_id, parent, code),
                protocols=tuple(d.protocols or ()),
            )
        )
        interval = (d.attributes or {}).get(INTERVAL_ATTRIBUTE)
        if isinstance(interval, int | float) and interval > 0:
            intervals[d.id] = float(interval)
    return RegistrySnapshot(
        targets=targets,
        intervals=intervals,
        topology=Topology(uplinks),
        site_of={d.id: d.site_id for d in devices},
        site_parent=parent,
        in_maintenance=frozenset(d.id for d in devices if d.lifecycle == Lifecycle.MAINTENANCE.value),
    )


def monitored_devices(
    snapshot: RegistrySnapshot,
    *,
    timeout_s: float = 2.0,
    last_seen: LastSeen | None = None,
) -> tuple[list[MonitoredDevice], list[str]]:
    """Default checks per device; devices that cannot be checked are returned as reasons, not raised."""
    monitored, skipped = [], []
    for target in snapshot.targets:
        if not target.address and "mqtt" not in target.protocols:
            skipped.append(f"device {target.device_id}: no address to check")
            continue
        try:
            checks = default_checks(target, timeout_s=timeout_s, last_seen=last_seen)
        except ValueError as error:
            skipped.append(str(error))
            continue
        monitored.append(MonitoredDevice(target, checks, snapshot.intervals.get(target.device_id)))
    return monitored, skipped


@dataclass(frozen=True, slots=True)
class PlacedDevice:
    device_id: int
    kind: str
    site_id: int


async def devices_under_site(session: AsyncSession, ref: str | int) -> tuple[Site, list[PlacedDevice]]:
    """The site (by code, ``id:N`` or ``scheme:version:code``) and every device now in its subtree.

    Retired devices are included: an SLA over a past period must count devices retired since.
    """
    root = await resolve_site(session, ref, field="site")
    rows = await session.execute(
        select(Device.id, Device.kind, Device.site_id)
        .where(Device.site_id.in_(select(Site.id).where(Site.path.startswith(root.path, autoescape=True))))
        .order_by(Device.id)
    )
    return root, [PlacedDevice(r.id, str(r.kind), r.site_id) for r in rows.all()]


def by_kind(devices: list[PlacedDevice]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for device in devices:
        groups.setdefault(device.kind, []).append(device.device_id)
    return dict(sorted(groups.items()))


__all__ = [
    "PlacedDevice",
    "RegistrySnapshot",
    "by_kind",
    "devices_under_site",
    "load_snapshot",
    "monitored_devices",
]
