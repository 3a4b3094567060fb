"""Putting the demo fleet into the registry through the paths an operator uses, never by writing rows.

SNMP devices are probed and onboarded (``ioc onboard snmp``), cameras onboarded over ONVIF
(``ioc onboard onvif``), sensors onboarded with their own MQTT credentials (``ioc onboard mqtt``),
uplinks set with the device update service, teams/channels/routes with the alerting admin functions,
and the province is loaded and reformed with the site services (``ioc sites load-vn`` and
``apply-reform-2025``). Every step looks first at what exists, so a rerun adds only what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.credentials import SnmpCommunityCredential
from device_registry.models import Device, Role, User
from device_registry.models.devices import DeviceKind
from device_registry.models.sites import Site
from device_registry.schemas.devices import DeviceUpdate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services import vn
from device_registry.services.devices import tags_and_uplinks, update_device
from device_registry.services.users import create_user, issue_token
from device_registry.vn.data import successors_2025
from ioc.demo.fleet import PROVINCE, SNMP_PORT, CameraPlan, FleetPlan, SwitchPlan
from ioc.runtime import Platform
from monitors.alerting import admin
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.models import Channel, Route, Team
from provisioning.mqtt.onboard import onboard_sensor
from provisioning.onvif.onboard import onboard_onvif
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpEndpoint
from provisioning.snmp.onboard import save as save_snmp
from provisioning.snmp.probe import ProbeResult
from provisioning.snmp.probe import probe as probe_snmp

log = logging.getLogger(__name__)
PRINCIPAL = Principal.system("ioc-demo")
NOC_TEAM = "Trung tâm IOC Thái Bình"
Say = Callable[[str], None]


def team_name(district_name: str) -> str:
    return f"Đội kỹ thuật {district_name}"


def mailbox(team_key: str) -> str:
    return f"{team_key}@demo.ioc.local"


@dataclass
class Provisioned:
    onboarded: int = 0
    existing: int = 0
    admin_token: str | None = None


def community(name: str) -> SnmpCommunityCredential:
    """Each simulated switch answers its own community (its name), as per-device communities do."""
    return SnmpCommunityCredential(community=SecretStr(name), version="2c")


class Provisioner:
    def __init__(self, platform: Platform, plan: FleetPlan, state: dict[str, Any], say: Say) -> None:
        self.platform = platform
        self.plan = plan
        self.state = state
        self.say = say
        self.result = Provisioned()

    async def run(self, *, smtp_port: int, camera_password: str) -> Provisioned:
        await self._load_province()
        names = await self._device_names()
        self.result.existing = len(names)
        reformed = bool(self.state.get("reform_applied"))
        await self._onboard_switches([s for s in self.plan.switches if s.name not in names], reformed)
        await self._onboard_cameras(
            [c for c in self.plan.cameras if c.name not in names], reformed, camera_password
        )
        await self._onboard_sensors(reformed)
        if not reformed:
            await self._reform()
        await self._uplinks()
        await self._teams(smtp_port)
        await self._admin()
        return self.result

    def _site(self, legacy_code: str, reformed: bool) -> str:
        """Before the reform a device goes to its pre-2025 commune (the reform then moves it, with
        history); on a rerun after it, straight to that commune's primary successor."""
        if not reformed:
            return f"vn-gso:legacy:{legacy_code}"
        successors = successors_2025(legacy_code)
        primary = next((s for s in successors if s.primary), successors[0])
        return primary.ward_code

    async def _load_province(self) -> None:
        async with self.platform.sessions() as session, session.begin():
            loaded = await vn.load_legacy_province(session, PRINCIPAL, PROVINCE)
        if loaded.created:
            self.say(
                f"loaded {loaded.province_name}: {loaded.districts} districts, {loaded.communes} communes"
            )

    async def _device_names(self) -> set[str]:
        async with self.platform.sessions() as session:
            return set((await session.scalars(select(Device.name))).all())

    async def _onboard_switches(self, switches: list[SwitchPlan], reformed: bool) -> None:
        if not switches:
            return
        self.say(f"SNMP: probing {len(switches)} switches and routers…")
        limit = asyncio.Semaphore(50)
        async with SnmpClient() as client:

            async def probe_one(switch: SwitchPlan) -> ProbeResult:
                endpoint = SnmpEndpoint(
                    switch.address, community(switch.name), SNMP_PORT, timeout=3, retries=2
                )
                async with limit:
                    return await probe_snmp(client, endpoint, max_interfaces=64)

            results = await asyncio.gather(*(probe_one(s) for s in switches))
        for switch, result in zip(switches, results, strict=True):
            async with self.platform.sessions() as session, session.begin():
                await save_snmp(
                    session,
                    PRINCIPAL,
                    self.platform.box,
                    result,
                    community(switch.name),
                    site_code=self._site(switch.legacy_site, reformed),
                    name=switch.name,
                    kind=DeviceKind.ROUTER if switch.kind == "router" else DeviceKind.SWITCH,
                )
            self.result.onboarded += 1

    async def _onboard_cameras(self, cameras: list[CameraPlan], reformed: bool, password: str) -> None:
        if not cameras:
            return
        self.say(f"ONVIF: onboarding {len(cameras)} cameras and NVRs…")
        from ioc.demo.fleet import ONVIF_PORT

        for camera in cameras:
            async with self.platform.sessions() as session, session.begin():
                await onboard_onvif(
                    session,
                    PRINCIPAL,
                    self.platform.box,
                    host=camera.address,
                    port=ONVIF_PORT,
                    username="admin",
                    password=SecretStr(password),
                    site=self._site(camera.legacy_site, reformed),
                    name=camera.name,
                    # The simulated cameras share two GStreamer RTSP servers on their own loopback
                    # addresses, so their stream URIs name another host: exactly what pinning would
                    # rewrite. The engineer's documented opt-out keeps them (docs/onvif.md).
                    keep_reported_addresses=True,
                )
            self.result.onboarded += 1

    async def _onboard_sensors(self, reformed: bool) -> None:
        """Sensors missing from the registry are onboarded; their passwords (shown once) go to the
        state. A sensor in the registry whose password the state lost cannot publish: say so."""
        names = await self._device_names()
        passwords = self.state.setdefault("sensors", {})
        missing = [s for s in self.plan.sensors if s.name not in names]
        if missing:
            self.say(f"MQTT: onboarding {len(missing)} sensors with their own credentials…")
        for sensor in missing:
            async with self.platform.sessions() as session, session.begin():
                made = await onboard_sensor(
                    session,
                    PRINCIPAL,
                    self.platform.box,
                    sensor.name,
                    self._site(sensor.legacy_site, reformed),
                    tags=[sensor.quantity.replace("_", "-")],
                )
            passwords[sensor.name] = {
                "device_id": made.device_id,
                "username": made.username,
                "password": made.password.get_secret_value(),
            }
            self.result.onboarded += 1
        lost = [s.name for s in self.plan.sensors if s.name not in passwords]
        if lost:
            self.say(f"{len(lost)} sensors have no stored password and stay silent: {', '.join(lost[:3])}…")

    async def _reform(self) -> None:
        async with self.platform.sessions() as session, session.begin():
            report = await vn.apply_reform_2025(session, PRINCIPAL, PROVINCE)
        self.state["reform_applied"] = True
        if not report.already_applied:
            self.say(
                f"2025 reform applied: {report.devices_moved} devices moved to their new communes "
                f"({', '.join(report.new_provinces)}), history kept"
            )

    async def _uplinks(self) -> None:
        async with self.platform.sessions() as session:
            ids = dict((await session.execute(select(Device.name, Device.id))).tuples().all())
        for name, uplinks in self.plan.uplinks().items():
            if not uplinks or name not in ids:
                continue
            wanted = sorted(ids[u] for u in uplinks if u in ids)
            async with self.platform.sessions() as session, session.begin():
                _, current = await tags_and_uplinks(session, ids[name])
                if sorted(current) == wanted:
                    continue
                await update_device(
                    session, PRINCIPAL, self.platform.box, ids[name], DeviceUpdate(uplink_ids=wanted)
                )

    async def _teams(self, smtp_port: int) -> None:
        """A province NOC team (route at the province) and one team per old district, routed by the
        communes its devices now stand in (the 2025 reform abolished the districts, not the teams)."""
        sites = RegistryDirectory(self.platform.sessions)
        districts = self.plan.district_of()
        async with self.platform.sessions() as session, session.begin():
            teams = dict((await session.execute(select(Team.name, Team.id))).tuples().all())
            routes = set((await session.scalars(select(Route.name))).all())
            urls = ChannelUrls(self.platform.box)
            channels = {
                (team_id, urls.open(url))
                for team_id, url in (await session.execute(select(Channel.team_id, Channel.url))).tuples()
            }
            rows = (
                await session.execute(
                    select(Device.name, Site.id, Site.path).join(Site, Site.id == Device.site_id)
                )
            ).all()
            wanted_teams = [(NOC_TEAM, "noc")] + [(team_name(d.name), d.key) for d in self.plan.districts]
            for name, key in wanted_teams:
                if name not in teams:
                    teams[name] = (await admin.create_team(session, PRINCIPAL, name)).id
                url = f"mailto://127.0.0.1:{smtp_port}?from=ioc-demo@demo.ioc.local&to={mailbox(key)}"
                if (teams[name], url) not in channels:
                    for stale in (
                        await session.scalars(select(Channel.id).where(Channel.team_id == teams[name]))
                    ).all():
                        await admin.delete_channel(session, PRINCIPAL, urls, stale)  # the mailbox moved
                    await admin.add_channel(session, PRINCIPAL, urls, teams[name], f"mail {key}", url)
            province_site = None
            by_site: dict[int, str] = {}
            for device_name, site_id, path in rows:
                district = districts.get(device_name)
                if district is None:
                    continue
                if province_site is None:
                    province_site = next(iter(site_paths.decode(path)), None)
                if district != "core":
                    by_site.setdefault(site_id, district)
            noc_route = "demo: toàn tỉnh → NOC"
            if province_site is not None and noc_route not in routes:
                await admin.add_route(
                    session, PRINCIPAL, sites, noc_route, teams[NOC_TEAM], site_id=province_site
                )
            names = {d.key: d.name for d in self.plan.districts}
            for site_id, district in sorted(by_site.items()):
                route = f"demo: site {site_id} → {district}"
                if route not in routes:
                    await admin.add_route(
                        session, PRINCIPAL, sites, route, teams[team_name(names[district])], site_id=site_id
                    )

    async def _admin(self) -> None:
        if self.state.get("admin_token"):
            self.result.admin_token = str(self.state["admin_token"])
            return
        async with self.platform.sessions() as session, session.begin():
            user = await session.scalar(select(User).where(User.username == "admin"))
            if user is None:
                user = await create_user(session, PRINCIPAL, UserCreate(username="admin", role=Role.ADMIN))
            issued = await issue_token(session, PRINCIPAL, user, TokenCreate(name="ioc demo"))
        self.state["admin_token"] = issued.token
        self.result.admin_token = issued.token
