"""Devices as pollers and checks see them: :class:`DeviceTarget` with site chain and opened credential.

One loader for every consumer (the monitors, the SNMP poller, the camera poller), so the site chain
and the credential are read the same way everywhere and credentials are opened in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.credentials import Credential as TypedCredential
from device_registry.models import Credential, Device, Lifecycle, Site
from device_registry.queries.without_inventory import devices_without_inventory
from device_registry.tags import COMMUNE_KINDS, device_tags, place_tags
from device_registry.targets import DeviceTarget

if TYPE_CHECKING:  # `cryptography` (~9 MiB RSS) only where a credential is opened: not in the ingest
    from device_registry.crypto import SecretBox

log = logging.getLogger(__name__)

WATCHED = (Lifecycle.ACTIVE.value, Lifecycle.MAINTENANCE.value)
"""Lifecycles that are checked and polled: PLANNED is not there yet, RETIRED is gone."""


async def watched_devices(session: AsyncSession, *criteria: ColumnElement[bool]) -> list[Device]:
    """Watched devices (and ``criteria``) by id, for pollers and monitors, without the SNMP interface
    inventory (:mod:`device_registry.queries.without_inventory`): read them, never write them back."""
    query = select(Device).where(Device.lifecycle.in_(WATCHED), *criteria).order_by(Device.id)
    return await devices_without_inventory(session, query)


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


@dataclass(frozen=True, slots=True)
class OpenedCredentials:
    by_device: dict[int, TypedCredential]
    """Device id -> its decrypted credential, for the devices that may use it."""
    refused: dict[int, str]
    """Credential id -> why it cannot be opened."""
    uncovered: dict[int, str]
    """Device id -> why its shared credential is not used: the owning site no longer covers it."""


async def read_credentials(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> OpenedCredentials:
    """Open the devices' credentials.

    A shared credential is refused for a device its owning site no longer covers. The writes refuse
    that, but a site tree reorganised under the device (the 2025 reform merged provinces and abolished
    districts) can leave a device holding a district's credential in another district: its secret must
    not follow the device there."""
    if box is None:
        return OpenedCredentials({}, {}, {})
    from device_registry.crypto import SecretBoxError

    wanted = {d.credential_id for d in devices if d.credential_id is not None}
    if not wanted:
        return OpenedCredentials({}, {}, {})
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
    paths = (  # only owned credentials are checked against the tree: none, no query
        dict((await session.execute(select(Site.id, Site.path).where(Site.id.in_(site_ids)))).all())
        if site_ids
        else {}
    )
    opened: dict[int, TypedCredential] = {}
    refused: dict[int, str] = {}
    for row in rows:
        try:
            opened[row.id] = box.open(row.secret)
        except SecretBoxError as error:
            refused[row.id] = str(error)
    owners = {r.id: (r.name, r.site_id) for r in rows}
    by_device: dict[int, TypedCredential] = {}
    uncovered: dict[int, str] = {}
    for d in devices:
        if d.credential_id not in opened:
            continue
        name, owner = owners[d.credential_id]
        if owner is not None and not site_paths.contains(paths.get(owner, "\0"), paths.get(d.site_id, "")):
            uncovered[d.id] = (
                f"device {d.id} ({d.name}): credential {name!r} belongs to site {owner}, which no longer"
                f" covers the device's site {d.site_id}: not used until the device or the credential moves"
            )
            continue
        by_device[d.id] = opened[d.credential_id]
    return OpenedCredentials(by_device, refused, uncovered)


@dataclass(frozen=True, slots=True)
class DeviceTargets:
    targets: list[DeviceTarget]
    """The devices, in the order given, with their usable credential (or none)."""
    uncovered: dict[int, str]
    """Device id -> why its shared credential is not used: the owning site no longer covers it. Not
    logged here: a caller that reloads every refresh says so once, when the reasons change."""


def _targets(
    devices: Sequence[Device], chains: dict[int, SiteChain], credentials: dict[int, TypedCredential]
) -> list[DeviceTarget]:
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


async def device_targets(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> DeviceTargets:
    """``devices`` as targets, in the same order; credentials opened when ``box`` is given. A credential
    that cannot be opened is logged and left out: that device fails its authenticated checks, the
    others go on."""
    found = await read_credentials(session, box, devices)
    for credential_id, why in found.refused.items():
        log.warning("credential %s cannot be used: %s", credential_id, why)
    return DeviceTargets(_targets(devices, await site_chains(session), found.by_device), found.uncovered)


@dataclass(frozen=True, slots=True)
class ProtocolTargets:
    targets: list[DeviceTarget]
    """Watched devices of the protocol, with an address and a usable credential."""
    unpolled: dict[int, str]
    """Device id -> why a watched device of the protocol is left out (no usable credential)."""


async def protocol_targets(session: AsyncSession, box: SecretBox, protocol: str) -> ProtocolTargets:
    """Watched devices with an address, ``protocol`` among their protocols and a usable credential.

    Devices without one are returned with the reason, not logged: a poller re-reads its targets every
    cycle and says so once, when the reasons change.
    """
    devices = await watched_devices(session, Device.address.is_not(None))
    devices = [d for d in devices if protocol in (d.protocols or [])]
    found = await read_credentials(session, box, devices)
    targets, unpolled = [], {}
    for device, target in zip(
        devices, _targets(devices, await site_chains(session), found.by_device), strict=True
    ):
        if device.id in found.uncovered:
            unpolled[target.device_id] = found.uncovered[device.id]
            continue
        if target.credential is None:
            why = found.refused.get(device.credential_id) if device.credential_id is not None else None
            unpolled[target.device_id] = (
                f"device {target.device_id} ({target.name}) has {protocol} but no usable credential"
                + (f" (credential {device.credential_id} cannot be opened: {why})" if why else "")
                + ": not polled"
            )
            continue
        targets.append(target)
    return ProtocolTargets(targets, unpolled)


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
