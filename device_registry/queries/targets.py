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


async def read_credentials(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> tuple[dict[int, TypedCredential], dict[int, str]]:
    """Device id -> decrypted credential, and credential id -> why it cannot be opened."""
    if box is None:
        return {}, {}
    wanted = {d.credential_id for d in devices if d.credential_id is not None}
    if not wanted:
        return {}, {}
    sealed = dict(
        (
            await session.execute(select(Credential.id, Credential.secret).where(Credential.id.in_(wanted)))
        ).all()
    )
    opened: dict[int, TypedCredential] = {}
    refused: dict[int, str] = {}
    for credential_id, secret in sealed.items():
        try:
            opened[credential_id] = box.open(secret)
        except SecretBoxError as error:
            refused[credential_id] = str(error)
    return {d.id: opened[d.credential_id] for d in devices if d.credential_id in opened}, refused


async def open_credentials(
    session: AsyncSession, box: SecretBox | None, devices: Sequence[Device]
) -> dict[int, TypedCredential]:
    """Device id -> decrypted credential. A credential that cannot be opened is logged and left out:
    that device fails its authenticated checks, the others go on."""
    credentials, refused = await read_credentials(session, box, devices)
    for credential_id, why in refused.items():
        log.warning("credential %s cannot be used: %s", credential_id, why)
    return credentials


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
) -> list[DeviceTarget]:
    """``devices`` as targets, in the same order; credentials opened when ``box`` is given."""
    chains = await site_chains(session)
    return _targets(devices, chains, await open_credentials(session, box, devices))


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
    devices = (
        await session.scalars(
            select(Device)
            .where(Device.lifecycle.in_(WATCHED), Device.address.is_not(None))
            .order_by(Device.id)
        )
    ).all()
    devices = [d for d in devices if protocol in (d.protocols or [])]
    credentials, refused = await read_credentials(session, box, devices)
    targets, unpolled = [], {}
    for device, target in zip(
        devices, _targets(devices, await site_chains(session), credentials), strict=True
    ):
        if target.credential is None:
            why = refused.get(device.credential_id) if device.credential_id is not None else None
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
