"""Routing: the most specific route wins (commune over district over province, kind and severity next),
and configuration mistakes are refused with the reason before anything is written."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from sqlalchemy import func, select

from device_registry.db import transaction
from monitors.alerting import admin
from monitors.alerting.errors import AlertConfigError
from monitors.alerting.models import Alert, Channel, Route
from monitors.alerting.routing import RouteRule, choose_route
from monitors.events import DeviceState, Severity
from tests.alerting.scenario import ACTOR, change, configure
from tests.alerting.world import SONG_LANG, START, TAN_HOA, VU_THU

PROVINCE_ROUTE = RouteRule(route_id=1, team_id=10)
DISTRICT_ROUTE = RouteRule(route_id=2, team_id=20, site_id=2)
COMMUNE_ROUTE = RouteRule(route_id=3, team_id=30, site_id=3)
DISTRICT_CAMERAS = RouteRule(route_id=4, team_id=40, site_id=2, device_kind="camera")
DISTRICT_CRITICAL = RouteRule(route_id=5, team_id=50, site_id=2, severity="critical")
RULES = [PROVINCE_ROUTE, DISTRICT_ROUTE, COMMUNE_ROUTE, DISTRICT_CAMERAS, DISTRICT_CRITICAL]


@pytest.mark.parametrize(
    ("ancestors", "kind", "severity", "expected"),
    [
        ([1, 2, 3], "camera", "critical", COMMUNE_ROUTE),  # the commune subtree beats everything above it
        ([1, 2, 4], "camera", "critical", DISTRICT_CAMERAS),  # another commune: the district's camera route
        ([1, 2, 4], "switch", "critical", DISTRICT_CRITICAL),  # not a camera: the critical-only route
        ([1, 2, 4], "switch", "warning", DISTRICT_ROUTE),  # not critical either: the plain district route
        ([1, 2], "ups", "info", DISTRICT_ROUTE),
        ([1, 9, 11], "camera", "critical", PROVINCE_ROUTE),  # another district: the province fallback
        ([], "camera", "critical", PROVINCE_ROUTE),  # device with unknown site
    ],
)
def test_most_specific_route_wins(ancestors, kind, severity, expected):
    assert choose_route(RULES, ancestors, kind, severity) == expected


def test_no_matching_route_and_ties_go_to_the_older_route():
    assert choose_route([DISTRICT_ROUTE], [1, 9], "camera", "critical") is None
    twin = RouteRule(route_id=7, team_id=70, site_id=2)
    assert choose_route([twin, DISTRICT_ROUTE], [1, 2], "camera", "info") == DISTRICT_ROUTE


async def test_commune_district_and_province_teams_each_get_their_own_outages(
    context, world, service, webhook, smtp, clock
):
    province_hook = webhook.url.replace("/hook", "/province")
    await configure(
        context, world, commune_url=smtp.url(), district_url=webhook.url, province_url=province_hook
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))  # camera in Tân Hòa -> commune
    await service.handle(change(103, DeviceState.DOWN, clock.now()))  # camera in Song Lãng -> district
    await service.handle(change(102, DeviceState.DOWN, clock.now()))  # district core switch -> district
    await service.handle(change(104, DeviceState.DOWN, clock.now()))  # Kiến Xương -> province (English)
    async with context.sessions() as session:
        teams = dict((await session.execute(select(Alert.device_id, Alert.team_id))).all())
    assert teams == {
        101: (await _team(context, "Đội kỹ thuật xã Tân Hòa")),
        103: (await _team(context, "Đội kỹ thuật huyện Vũ Thư")),
        102: (await _team(context, "Đội kỹ thuật huyện Vũ Thư")),
        104: (await _team(context, "Provincial data centre")),
    }
    await service.worker.run_once()
    assert [mail["Subject"] for mail in smtp.messages] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"
    ]
    titles = sorted(m["title"] for m in webhook.wait_for(3))
    assert titles == [
        "[CRITICAL] Down: CAM-VULE-01 – Xã Vũ Lễ",
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-SONGLANG-02 – Xã Song Lãng",
        "[NGHIÊM TRỌNG] Mất kết nối: SW-VUTHU-CORE – Huyện Vũ Thư",
    ]
    english = next(m for m in webhook.received if m["title"].startswith("[CRITICAL]"))
    assert "Site: Tỉnh Thái Bình › Huyện Kiến Xương › Xã Vũ Lễ" in english["message"]
    assert f"Since: {START:%Y-%m-%d} 08:30 (Vietnam time)" in english["message"]


async def _team(context, name: str) -> int:
    from monitors.alerting.models import Team

    async with context.sessions() as session:
        found = await session.scalar(select(Team.id).where(Team.name == name))
    assert found is not None
    return found


async def test_route_to_missing_team_or_unknown_site_is_refused_with_the_reason(context, world):
    async with transaction(context.sessions) as session:
        team = await admin.create_team(session, ACTOR, "Đội Song Lãng")
    with pytest.raises(AlertConfigError, match="team_id: team 999 does not exist") as missing_team:
        async with transaction(context.sessions) as session:
            await admin.add_route(session, ACTOR, context.sites, "ghost", 999, site_id=world.sites[SONG_LANG])
    assert missing_team.value.field == "team_id"
    with pytest.raises(AlertConfigError, match="site_id: site 424242 does not exist"):
        async with transaction(context.sessions) as session:
            await admin.add_route(session, ACTOR, context.sites, "nowhere", team.id, site_id=424242)
    with pytest.raises(AlertConfigError, match="severity"):
        async with transaction(context.sessions) as session:
            await admin.add_route(session, ACTOR, context.sites, "loud", team.id, severity="panic")
    async with context.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Route)) == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("tgram://not-a-token", "Unparseable Telegram URL"),
        ("nosuchservice://host", "Unparseable URL"),
        ("not a url at all", "Unsupported URL"),
        ("", "an apprise URL is required"),
    ],
)
async def test_invalid_apprise_url_is_refused_with_apprises_reason(context, world, url, reason):
    async with transaction(context.sessions) as session:
        team = await admin.create_team(session, ACTOR, "Đội Vũ Lễ")
    with pytest.raises(AlertConfigError, match=reason) as refused:
        async with transaction(context.sessions) as session:
            await admin.add_channel(session, ACTOR, context.channel_urls, team.id, "bad", url)
    assert refused.value.field == "url"
    if url:
        assert url not in str(refused.value)  # an apprise URL may hold a token: never echoed
    async with context.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Channel)) == 0


async def test_channel_and_escalation_inputs_are_checked(context, world):
    async with transaction(context.sessions) as session:
        team = await admin.create_team(session, ACTOR, "Đội Tân Hòa")
        route = await admin.add_route(
            session, ACTOR, context.sites, "tan-hoa", team.id, site_id=world.sites[TAN_HOA]
        )
        await admin.add_escalation_step(session, ACTOR, route.id, 15, team_id=team.id)
    cases: list[tuple[Any, tuple[Any, ...], dict[str, Any], str]] = [
        (
            admin.add_channel,
            (context.channel_urls, team.id, "x", "json://127.0.0.1/x"),
            {"quiet_start": time(22)},
            "quiet_end",
        ),
        (admin.add_channel, (context.channel_urls, 999, "x", "json://127.0.0.1/x"), {}, "team_id"),
        (admin.add_escalation_step, (route.id, 30), {}, "team_id"),
        (admin.add_escalation_step, (route.id, 10), {"team_id": team.id}, "after_minutes"),
        (admin.add_escalation_step, (route.id, 30), {"channel_id": 999}, "channel_id"),
        (admin.add_escalation_step, (999, 30), {"team_id": team.id}, "route_id"),
        (admin.create_team, ("Đội Tân Hòa",), {}, "name"),
        (admin.create_team, ("Team X",), {"language": "fr"}, "language"),
        (admin.add_member, (team.id, 999), {}, "user_id"),
    ]
    for function, args, kwargs, field in cases:
        with pytest.raises(AlertConfigError) as refused:
            async with transaction(context.sessions) as session:
                await function(session, ACTOR, *args, **kwargs)
        assert refused.value.field == field, (function.__name__, args, kwargs, str(refused.value))
    async with transaction(context.sessions) as session:
        member = await admin.add_member(session, ACTOR, team.id, world.users["lan"])
    assert member.user_id == world.users["lan"]


async def test_severity_route_sends_warnings_to_the_district_and_criticals_to_the_commune(
    context, world, service, webhook, clock
):
    async with transaction(context.sessions) as session:
        commune = await admin.create_team(session, ACTOR, "Đội Tân Hòa")
        district = await admin.create_team(session, ACTOR, "Đội Vũ Thư")
        await admin.add_channel(
            session, ACTOR, context.channel_urls, commune.id, "c", webhook.url.replace("/hook", "/commune")
        )
        await admin.add_channel(session, ACTOR, context.channel_urls, district.id, "d", webhook.url)
        await admin.add_route(
            session, ACTOR, context.sites, "vu-thu", district.id, site_id=world.sites[VU_THU]
        )
        await admin.add_route(
            session,
            ACTOR,
            context.sites,
            "tan-hoa-critical",
            commune.id,
            site_id=world.sites[TAN_HOA],
            severity=Severity.CRITICAL,
        )
    await service.handle(change(105, DeviceState.DOWN, clock.now(), severity=Severity.WARNING))
    await service.handle(change(101, DeviceState.DOWN, clock.now(), severity=Severity.CRITICAL))
    async with context.sessions() as session:
        teams = dict((await session.execute(select(Alert.device_id, Alert.team_id))).all())
    assert teams == {105: district.id, 101: commune.id}
