"""What the monitors need from the registry, read in one pass: targets, uplinks, the site tree.

Lifecycle decides who is watched: ACTIVE and MAINTENANCE devices are checked (a device in MAINTENANCE
is checked and recorded but never alerted, like a maintenance window); PLANNED and RETIRED are not.
A device's own interval comes from ``attributes["check_interval_s"]`` when set, else its kind's policy.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.crypto import SecretBox
from device_registry.models import Device, DeviceUplink, Lifecycle, Site
from device_registry.queries.targets import device_targets, watched_devices
from device_registry.services.sites import resolve_site
from device_registry.targets import DeviceTarget
from monitors.checks.defaults import DefaultChecks
from monitors.scheduler import MonitoredDevice
from monitors.stored_rows import report_invalid
from monitors.topology import Topology
from provisioning.onvif.stored import stored_stream_uri

log = logging.getLogger(__name__)

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
    stream_uris: dict[int, str] = field(default_factory=dict)
    """Stream URIs stored by ONVIF onboarding, for the RTSP check."""
    uncovered: dict[int, str] = field(default_factory=dict)
    """Device id -> why its shared credential is not used (its owning site no longer covers it)."""


MIN_INTERVAL_S, MAX_INTERVAL_S = 1.0, 86_400.0


def _valid_interval(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and MIN_INTERVAL_S <= value <= MAX_INTERVAL_S
    )


async def site_tree(session: AsyncSession) -> tuple[dict[int, int | None], dict[int, str]]:
    rows = (await session.execute(select(Site.id, Site.parent_id, Site.code))).all()
    return {r.id: r.parent_id for r in rows}, {r.id: r.code for r in rows}


async def load_snapshot(session: AsyncSession, box: SecretBox | None = None) -> RegistrySnapshot:
    """With ``box``, targets carry their decrypted credentials (SNMP and RTSP checks log in with them)."""
    parent, _ = await site_tree(session)
    devices = await watched_devices(session)
    watched = {d.id for d in devices}
    uplinks: dict[int, list[int]] = {}
    for device_id, uplink_id in (
        await session.execute(select(DeviceUplink.device_id, DeviceUplink.uplink_id))
    ).all():
        if device_id in watched:
            uplinks.setdefault(device_id, []).append(uplink_id)
    intervals, stream_uris = {}, {}
    for d in devices:
        interval = (d.attributes or {}).get(INTERVAL_ATTRIBUTE)
        if interval is not None:
            if _valid_interval(interval):
                intervals[d.id] = float(interval)
            else:
                problem = f"{interval!r} is not a number of seconds in 1..86400"
                report_invalid(log, "check interval of device", d.id, problem)
        uri = stored_stream_uri(d.id, d.attributes)
        if uri is not None:
            stream_uris[d.id] = uri
    found = await device_targets(session, box, devices)
    return RegistrySnapshot(
        targets=found.targets,
        intervals=intervals,
        topology=Topology(uplinks),
        site_of={d.id: d.site_id for d in devices},
        site_parent=parent,
        in_maintenance=frozenset(d.id for d in devices if d.lifecycle == Lifecycle.MAINTENANCE.value),
        stream_uris=stream_uris,
        uncovered=found.uncovered,
    )


def monitored_devices(
    snapshot: RegistrySnapshot, checks: DefaultChecks
) -> tuple[list[MonitoredDevice], list[str]]:
    """Default checks per device; devices that cannot be checked are returned as reasons, not raised."""
    monitored, skipped = [], []
    for target in snapshot.targets:
        if not target.address and "mqtt" not in target.protocols:
            skipped.append(f"device {target.device_id}: no address to check")
            continue
        try:
            chosen = checks.for_target(target, stream_uri=snapshot.stream_uris.get(target.device_id))
        except ValueError as error:
            skipped.append(str(error))
            continue
        monitored.append(MonitoredDevice(target, chosen, snapshot.intervals.get(target.device_id)))
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
        .where(Device.site_id.in_(select(Site.id).where(site_paths.subtree(Site.path, root.path))))
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
