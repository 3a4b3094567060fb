"""A small real registry for alerting tests: part of Thái Bình province, its devices and some users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.models import Device, DeviceKind, Role, SiteKind
from device_registry.text import fold
from tests.registry.seed import create_sites, create_users

ADMIN = Principal.system("alerting-test")

START = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0) - timedelta(days=1)
"""Where the tests' clock starts: 08:30 in Hà Nội (01:30 UTC) yesterday, derived from the real clock."""
START_DATE_VN = f"{START:%d/%m/%Y}"
"""Its date as the Vietnamese messages print it (01:30 UTC is the same day in Hà Nội)."""

# code -> (name, kind, parent code)
SITES = {
    "34": ("Tỉnh Thái Bình", SiteKind.PROVINCE, None),
    "344": ("Huyện Vũ Thư", SiteKind.DISTRICT, "34"),
    "13279": ("Xã Tân Hòa", SiteKind.COMMUNE, "344"),
    "13282": ("Xã Song Lãng", SiteKind.COMMUNE, "344"),
    "345": ("Huyện Kiến Xương", SiteKind.DISTRICT, "34"),
    "13330": ("Xã Vũ Lễ", SiteKind.COMMUNE, "345"),
}
TAN_HOA, SONG_LANG, VU_THU, VU_LE = "13279", "13282", "344", "13330"

# id -> (name, kind, site code)
DEVICES = {
    101: ("CAM-TANHOA-01", "camera", TAN_HOA),
    102: ("SW-VUTHU-CORE", "switch", VU_THU),
    103: ("CAM-SONGLANG-02", "camera", SONG_LANG),
    104: ("CAM-VULE-01", "camera", VU_LE),
    105: ("UPS-TANHOA-01", "ups", TAN_HOA),
}

# username -> (role, scope site code)
USERS = {
    "lan": (Role.MAINTENANCE, TAN_HOA),
    "minh": (Role.OPERATOR, None),
    "hoa": (Role.MAINTENANCE, VU_LE),
    "viewer": (Role.ENGINEER, None),
}


@dataclass
class World:
    sites: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


async def build_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World()
    async with sessions() as session, session.begin():
        world.sites = await create_sites(session, ADMIN, SITES)
        for device_id, (name, device_kind, site_code) in DEVICES.items():
            session.add(
                Device(
                    id=device_id,
                    name=name,
                    name_folded=fold(name),
                    kind=DeviceKind(device_kind),
                    site_id=world.sites[site_code],
                )
            )
        world.users, world.tokens = await create_users(session, ADMIN, USERS)
    return world
