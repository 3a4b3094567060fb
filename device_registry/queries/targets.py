"""Devices as pollers and checks see them: :class:`DeviceTarget` with site chain and opened credential.

One loader for every consumer (the monitors, the SNMP poller, the camera poller), so the site chain
and the credential are read the same way everywhere and credentials are opened in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.credentials import Credential as TypedCredential
from device_registry.crypto import SecretBox, SecretBoxError
from device_registry.models import Credential, Device, Lifecycle, Site
from device_registry.tags import COMMUNE_KINDS, device_tags, place_tags
from device_registry.targets import DeviceTarget

log = logging.getLogger(__name__)

WATCHED = (Lifecycle.ACTIVE.value, Lifecycle.MAINTENANCE.value)
"""Lifecycles that are checked and polled: PLANNED is not there yet, RETIRED is gone."""


SiteChain = tuple[tuple[str, ...], tuple[str, ...]]
"""(codes, kinds) from the root of the tree down to one site."""


async def site_chains(session: AsyncSession) -> dict[int, SiteChain]:
    """Site id -> its chain of codes and kinds, root first (the ``path`` column holds the ids)."""
    rows = (await session.execute(select(Site.id, Site.code, Site.kind, Site.path))).all()
    sites = {r.id: (r.code, str(r.kind)) for r in rows}
    chains: dict[int, SiteChain] = {}
    for r in rows:
        ids = site_paths.decode(r.path)
        chain = [sites[i] for i in ids if i in sites] or [sites[r.id]]
        chains[r.id] = (tuple(code for code, _ in chain), tuple(kind for _, kind in chain))
    return chains


_uncovered: set[tuple[int, int, int, int]] = set()
"""(device, credential, device's site, credential's site) already reported as refused: each is logged
once per process, not every cycle, and again if it recurs after being resolved."""


async def open_credentials(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> dict[int, TypedCredential]:
    """Device id -> decrypted credential. A credential that cannot be opened is logged and left out:
    that device fails its authenticated checks, the others go on.

    A shared credential is refused (and the refusal logged once) for a device its owning site no longer
    covers. The writes refuse that, but a site tree reorganised under the device (the 2025 reform
    merged provinces and abolished districts) can leave a device holding a district's credential in
    another district: its secret must not follow the device there."""
    if box is None:
        return {}
    wanted = {d.credential_id for d in devices if d.credential_id is not None}
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(Credential.id, Credential.name, Credential.secret, Credential.site_id).where(
                Credential.id.in_(wanted)
            )
        )
    ).all()
    site_ids = {r.site_id for r in rows if r.site_id is not None}
    if site_ids:
        site_ids |= {d.site_id for d in devices}
    paths = dict((await session.execute(select(Site.id, Site.path).where(Site.id.in_(site_ids)))).all())
    opened: dict[int, TypedCredential] = {}
    owners: dict[int, int | None] = {}
    for row in rows:
        owners[row.id] = row.site_id
        try:
            opened[row.id] = box.open(row.secret)
        except SecretBoxError as error:
            log.warning("credential %s cannot be used: %s", row.id, error)
    names = {r.id: r.name for r in rows}
    result: dict[int, TypedCredential] = {}
    for d in devices:
        if d.credential_id not in opened:
            continue
        owner = owners[d.credential_id]
        pair = (d.id, d.credential_id, d.site_id, owner or 0)
        if owner is not None and not site_paths.contains(paths.get(owner, "\0"), paths.get(d.site_id, "")):
            if pair not in _uncovered:
                _uncovered.add(pair)
                log.warning(
                    "device %s: credential %r belongs to site %s, which no longer covers the device's site"
                    " %s: not used until the device or the credential is moved",
                    d.id,
                    names[d.credential_id],
                    owner,
                    d.site_id,
                )
            continue
        if _uncovered:  # resolved: a later recurrence is reported again
            _uncovered.difference_update({p for p in _uncovered if p[:2] == pair[:2]})
        result[d.id] = opened[d.credential_id]
    return result


async def device_targets(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> list[DeviceTarget]:
    """``devices`` as targets, in the same order; credentials opened when ``box`` is given."""
    chains = await site_chains(session)
    credentials = await open_credentials(session, box, devices)
    return [
        DeviceTarget(
            device_id=d.id,
            name=d.name,
            kind=str(d.kind),
            address=d.address or "",
            port=d.port,
            site_codes=chains.get(d.site_id, ((), ()))[0],
            site_kinds=chains.get(d.site_id, ((), ()))[1],
            protocols=tuple(d.protocols or ()),
            credential=credentials.get(d.id),
            attributes=dict(d.attributes or {}),
        )
        for d in devices
    ]


async def protocol_targets(session: AsyncSession, box: SecretBox, protocol: str) -> list[DeviceTarget]:
    """Watched devices with an address, ``protocol`` among their protocols and a usable credential.

    Devices without one are named in a warning and left out: a poller cannot log in to them.
    """
    devices = (
        await session.scalars(
            select(Device)
            .where(Device.lifecycle.in_(WATCHED), Device.address.is_not(None))
            .order_by(Device.id)
        )
    ).all()
    devices = [d for d in devices if protocol in (d.protocols or [])]
    targets = []
    for target in await device_targets(session, box, devices):
        if target.credential is None:
            log.warning(
                "device %s (%s) has %s but no usable credential: not polled",
                target.device_id,
                target.name,
                protocol,
            )
            continue
        targets.append(target)
    return targets


async def device_tags_by_id(session: AsyncSession, device_ids: Collection[int]) -> dict[int, dict[str, str]]:
    """Device id -> its point tags (:func:`device_registry.tags.device_tags`) for ``device_ids``.

    Reads every device's id, name, kind and site (four columns, no credentials) and keeps the wanted
    ones: cheaper than an ``IN`` list of thousands of ids, and bounded by the registry's size.
    """
    wanted = set(device_ids)
    if not wanted:
        return {}
    chains = await site_chains(session)
    rows = (await session.execute(select(Device.id, Device.name, Device.kind, Device.site_id))).all()
    tags = {}
    for r in rows:
        if r.id in wanted:
            codes, kinds = chains.get(r.site_id, ((), ()))
            tags[r.id] = device_tags(r.id, r.name, str(r.kind), codes, kinds)
    return tags


@dataclass(frozen=True, slots=True)
class PlaceLocation:
    """An open commune-level unit with coordinates, tagged like the points of the devices on it."""

    tags: dict[str, str]
    name: str
    latitude: float
    longitude: float


async def commune_locations(session: AsyncSession) -> list[PlaceLocation]:
    """Every open commune, ward or township that has coordinates (the dashboards' map)."""
    chains = await site_chains(session)
    rows = (
        await session.execute(
            select(Site.id, Site.name, Site.latitude, Site.longitude).where(
                Site.kind.in_(sorted(COMMUNE_KINDS)),
                Site.valid_to.is_(None),
                Site.latitude.is_not(None),
                Site.longitude.is_not(None),
            )
        )
    ).all()
    return [
        PlaceLocation(place_tags(*chains[r.id]), r.name, float(r.latitude), float(r.longitude))
        for r in rows
        if r.id in chains
    ]
