"""The one tag scheme every point the platform writes carries: who the device is and where it stands.

Tags are named by administrative level, not by depth, because depth means different things on either
side of the 2025 reform (province -> district -> commune before, province -> commune after): a
dashboard filtering ``commune = 'X'`` keeps working across it, and ``district`` simply stops appearing
on points of devices whose tree has no district any more. Values are site codes, never names: codes
are unique and stable, names are re-used by merged units. See docs/telemetry.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from device_registry.models.sites import SiteKind

COMMUNE_KINDS = frozenset({SiteKind.COMMUNE.value, SiteKind.WARD.value, SiteKind.TOWNSHIP.value})
"""The third level of local government: a commune (xã), ward (phường) or township (thị trấn)."""

LEVEL_OF_KIND = {
    SiteKind.PROVINCE.value: "province",
    SiteKind.DISTRICT.value: "district",
    **dict.fromkeys(COMMUNE_KINDS, "commune"),
}

TAG_KEYS = ("device_id", "device", "kind", "province", "district", "commune", "site")
"""Every key :func:`device_tags` may produce, in the order it produces them."""


def device_tags(
    device_id: int, name: str, kind: str, site_codes: Sequence[str], site_kinds: Sequence[str]
) -> dict[str, str]:
    """Tags for points about one device standing at the end of the site chain ``site_codes``.

    ``site_codes``/``site_kinds`` run from the root of the tree to the device's own site, one kind per
    code. ``province``, ``district`` and ``commune`` are the codes of the chain's units of those levels
    (a level absent from the chain gives no tag); ``site`` is always the last code, whatever its kind
    (a building, or the commune itself when the device stands directly on it). Values are made
    storable here, once per device, because the line protocol refuses a whole write for one bad tag:
    runs of whitespace (newlines included) become one space, trailing backslashes go, and an empty
    value is left out.
    """
    tags = {"device_id": str(device_id), "device": name, "kind": kind, **_levels(site_codes, site_kinds)}
    if site_codes:
        tags["site"] = site_codes[-1]
    return _storable(tags)


def place_tags(site_codes: Sequence[str], site_kinds: Sequence[str]) -> dict[str, str]:
    """``province``/``district``/``commune`` of a site chain alone: the tags of points about a place
    (the monitors' ``site`` points, which put communes on the dashboards' map)."""
    return _storable(_levels(site_codes, site_kinds))


def _levels(site_codes: Sequence[str], site_kinds: Sequence[str]) -> dict[str, str]:
    levels = {}
    for code, site_kind in zip(site_codes, site_kinds, strict=False):
        level = LEVEL_OF_KIND.get(str(site_kind))
        if level is not None:
            levels[level] = code
    return levels


def _storable(tags: dict[str, str]) -> dict[str, str]:
    clean = {key: " ".join(value.split()).rstrip("\\") for key, value in tags.items()}
    return {key: value for key, value in clean.items() if value}
