"""Thái Bình before and after the July 2025 reform: nothing lost, everything findable."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from device_registry.models import Device, DeviceSiteHistory, Site, SiteSuccession, User
from device_registry.queries.devices import DeviceFilter, list_devices
from device_registry.queries.sites import SiteFilter, list_sites
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.sites import SiteCreate
from device_registry.schemas.users import UserCreate
from device_registry.services.devices import create_device
from device_registry.services.sites import create_site, resolve_site
from device_registry.services.users import create_user, principal_for
from device_registry.services.vn import apply_reform_2025, load_legacy_province
from device_registry.vn import data as vn
from tests.registry.seed import ADMIN


async def test_load_thai_binh_then_apply_reform(sessions, box):
    async with sessions() as session, session.begin():
        summary = await load_legacy_province(session, ADMIN, "34")
    assert (summary.districts, summary.communes) == (8, 242)

    async with sessions() as session:
        legacy = (await session.scalars(select(Site).where(Site.code_version == "legacy"))).all()
        assert len(legacy) == 1 + 8 + 242
        assert all(s.latitude and s.longitude for s in legacy)
        assert {s.name for s in legacy if s.depth == 1} >= {
            "Huyện Vũ Thư",
            "Thành phố Thái Bình",
            "Huyện Đông Hưng",
        }

    # Two communes of Thái Bình (no Thái Bình commune was divided between several new ones).
    _, districts = vn.legacy_province("34")
    wards = [w for _, ws in districts for w in ws]
    divided, ordinary = wards[10], wards[100]
    async with sessions() as session, session.begin():
        ward_site = await resolve_site(session, f"vn-gso:legacy:{ordinary.code}")
        building = await create_site(
            session,
            ADMIN,
            SiteCreate(
                code="UBND-1",
                name="Trụ sở UBND xã",
                kind="site",
                parent_code=f"vn-gso:legacy:{ordinary.code}",
            ),
        )
        cams = []
        for i, (site_ref) in enumerate(
            [f"id:{ward_site.id}", f"vn-gso:legacy:{divided.code}", "UBND-1", "344"]
        ):
            device = await create_device(
                session, ADMIN, box, DeviceCreate(name=f"cam-{i}", kind="camera", site_code=site_ref)
            )
            cams.append(device.id)
        user = await create_user(
            session,
            ADMIN,
            UserCreate(username="team-vu-thu", role="maintenance", scope_site_code="vn-gso:legacy:344"),
        )
        before_scope = await list_devices(session, await principal_for(session, user), DeviceFilter())
    building_id = building.id

    async with sessions() as session, session.begin():
        reform = await apply_reform_2025(session, ADMIN, "34")
    assert reform.new_provinces == ["33"] and reform.sites_closed == 251 and reform.devices_moved == 3
    assert reform.sites_reparented == 1 and reform.users_frozen == 1

    async with sessions() as session:
        # Every pre-2025 unit is closed, none deleted; every commune maps into an open 2025 commune of Hưng Yên.
        legacy = (await session.scalars(select(Site).where(Site.code_version == "legacy"))).all()
        assert len(legacy) == 251 and all(s.valid_to == date(2025, 7, 1) for s in legacy)
        province_33 = await resolve_site(session, "vn-gso:2025:33")
        assert province_33.name == "Tỉnh Hưng Yên" and province_33.valid_to is None
        for ward in (s for s in legacy if s.depth == 2):
            successors = (
                await session.execute(
                    select(SiteSuccession.is_primary, Site)
                    .join(Site, Site.id == SiteSuccession.successor_id)
                    .where(SiteSuccession.predecessor_id == ward.id)
                )
            ).all()
            assert successors, ward.name
            assert sum(primary for primary, _ in successors) == 1
            assert all(s.valid_to is None and s.path.startswith(province_33.path) for _, s in successors)

        # Devices moved to the primary successor with their history kept.
        primary = vn.successors_2025(divided.code)
        expected_code = next(s.ward_code for s in primary if s.primary)
        moved = await session.get(Device, cams[1])
        assert (await session.get(Site, moved.site_id)).code == expected_code
        history = (
            await session.scalars(
                select(DeviceSiteHistory)
                .where(DeviceSiteHistory.device_id == cams[1])
                .order_by(DeviceSiteHistory.id)
            )
        ).all()
        assert [h.reason for h in history] == ["created", "reform-2025"]
        assert history[0].valid_to is not None and history[1].valid_to is None
        # The building keeps its devices and now stands under the new commune.
        assert (await session.get(Device, cams[2])).site_id == building_id
        building = await session.get(Site, building_id)
        assert building.valid_to is None and building.path.startswith(province_33.path)
        # A device on the old district itself went to the new province.
        assert (await session.get(Device, cams[3])).site_id == province_33.id

        # Old names stay searchable; by default only open units are listed.
        found = await list_sites(session, SiteFilter(search="vu thu", include_closed=True))
        assert "Huyện Vũ Thư" in {s.name for s in found.items}
        closed_district = next(s for s in found.items if s.name == "Huyện Vũ Thư")
        assert closed_district.successor_codes == ["33"]
        assert "Huyện Vũ Thư" not in {
            s.name for s in (await list_sites(session, SiteFilter(search="vu thu"))).items
        }

    # The team scoped to the abolished district keeps exactly its devices: none gained, none lost.
    async with sessions() as session, session.begin():
        newcomer_site = await session.get(Site, (await session.get(Device, cams[3])).site_id)
        await create_device(
            session, ADMIN, box, DeviceCreate(name="cam-new", kind="camera", site_id=newcomer_site.id)
        )
        user = await session.scalar(select(User).where(User.username == "team-vu-thu"))
        after_scope = await list_devices(session, await principal_for(session, user), DeviceFilter())
    assert user.scope_frozen
    assert {d.id for d in after_scope.items} == {d.id for d in before_scope.items} == {cams[3]}

    async with sessions() as session, session.begin():
        again = await apply_reform_2025(session, ADMIN, "34")
        assert again.already_applied
        assert await session.scalar(select(func.count(SiteSuccession.id))) == reform.successions


async def test_two_old_provinces_merge_into_one_and_divided_communes_have_one_primary(sessions, box):
    """Hưng Yên (old 33) and Thái Bình (34) both become the new Hưng Yên (33); old Hưng Yên had communes
    split between several new ones: devices go to the primary successor, the others are recorded too."""
    async with sessions() as session, session.begin():
        await load_legacy_province(session, ADMIN, "34")
        await load_legacy_province(session, ADMIN, "33")
    _, districts = vn.legacy_province("33")
    divided = next(w for _, ws in districts for w in ws if len(vn.successors_2025(w.code)) > 1)
    async with sessions() as session, session.begin():
        device = await create_device(
            session,
            ADMIN,
            box,
            DeviceCreate(name="cam-split", kind="camera", site_code=f"vn-gso:legacy:{divided.code}"),
        )
    async with sessions() as session, session.begin():
        first = await apply_reform_2025(session, ADMIN, "34")
        second = await apply_reform_2025(session, ADMIN, "33")
    assert first.new_units_created > 0 and second.new_units_created == 0, "the new province is created once"
    async with sessions() as session:
        provinces = (
            await session.scalars(select(Site).where(Site.code_version == "2025", Site.depth == 0))
        ).all()
        assert [p.code for p in provinces] == ["33"]
        moved = await session.get(Device, device.id)
        primary = next(s.ward_code for s in vn.successors_2025(divided.code) if s.primary)
        assert (await session.get(Site, moved.site_id)).code == primary
        old = await resolve_site(session, f"vn-gso:legacy:{divided.code}")
        links = (
            await session.scalars(select(SiteSuccession).where(SiteSuccession.predecessor_id == old.id))
        ).all()
        assert len(links) == len(vn.successors_2025(divided.code)) > 1
