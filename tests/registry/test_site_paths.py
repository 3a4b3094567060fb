"""Subtree filters stay inside the subtree, whatever the site codes or the prefix contain."""

from __future__ import annotations

from sqlalchemy import select

from device_registry import site_paths
from device_registry.crypto import SecretBox, generate_key
from device_registry.models import Site, SiteKind
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.services.devices import create_devices
from device_registry.services.sites import create_site
from tests.registry.seed import ADMIN, build_world


async def test_site_code_with_underscore_does_not_leak_sibling_devices(api, sessions):
    world = await build_world(sessions)
    api.tokens.update(world.tokens)
    async with sessions() as session, session.begin():
        root = await create_site(session, ADMIN, SiteCreate(code="R", name="Gốc", kind=SiteKind.PROVINCE))
        for code in ("H_1", "HX1", "H11"):
            await create_site(
                session, ADMIN, SiteCreate(code=code, name=code, kind=SiteKind.DISTRICT, parent_code="R")
            )
            await create_site(
                session,
                ADMIN,
                SiteCreate(code=f"{code}.c", name=code, kind=SiteKind.COMMUNE, parent_code=code),
            )
        await create_devices(
            session,
            ADMIN,
            SecretBox(generate_key()),
            [
                DeviceCreate(name=f"cam-{code}", kind="camera", site_code=f"{code}.c")
                for code in ("H_1", "HX1", "H11")
            ],
        )
    for code in ("H_1", "HX1", "H11"):
        listed = await api.client.get("/api/v1/devices", params={"site": code}, headers=api.as_("admin"))
        assert [d["name"] for d in listed.json()["items"]] == [f"cam-{code}"]
        under = await api.client.get("/api/v1/sites", params={"under": code}, headers=api.as_("admin"))
        assert [s["code"] for s in under.json()["items"]] == [f"{code}.c"]

    async with sessions() as session:
        everything = set((await session.scalars(select(Site.id))).all())
        below_root = set(
            (await session.scalars(select(Site.id).where(site_paths.subtree(Site.path, root.path)))).all()
        )
        assert len(below_root) == 7 and below_root < everything
        # A prefix carrying LIKE wildcards matches them literally: no path holds "%" or "_", so nothing.
        for hostile in ("/%", "/_/", f"{root.path[:-2]}_/", "\\"):
            assert (
                await session.scalars(select(Site.id).where(site_paths.subtree(Site.path, hostile)))
            ).all() == []
    assert site_paths.decode(root.path) == [root.id]
    assert site_paths.encode([1, 7, 42]) == "/1/7/42/" == site_paths.child("/1/7/", 42)
    assert not site_paths.contains("/1/7/", "/1/70/") and site_paths.related("/1/", "/1/7/")
