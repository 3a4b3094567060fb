"""Operations read the fleet's state through the API: counts per site, device states, root outages."""

from __future__ import annotations

from tests.status.world import DEAD

DISTRICT_OUTAGE = {"down": 1, "unreachable": 3, "up": 2, "maintenance": 1, "total": 7}


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


async def test_status_counts_a_district_switch_outage_per_site_down_to_the_commune(api, world):
    admin = api.as_("admin")
    province = (await api.client.get("/api/v1/status", params={"site": "P"}, headers=admin)).json()
    assert nonzero(province["counts"]) == DISTRICT_OUTAGE
    assert province["worst"] == "down"
    children = {c["site"]["code"]: (nonzero(c["counts"]), c["worst"]) for c in province["children"]}
    assert children == {
        "D1": ({"down": 1, "unreachable": 3, "total": 4}, "down"),
        "D2": ({"up": 2, "maintenance": 1, "total": 3}, "maintenance"),
    }
    assert province["communes"] is None

    district = await api.client.get(
        "/api/v1/status", params={"site": "D1", "communes": "true"}, headers=admin
    )
    body = district.json()
    assert {c["site"]["code"]: nonzero(c["counts"]) for c in body["children"]} == {
        "A": {"unreachable": 2, "total": 2},
        "A2": {"unreachable": 1, "total": 1},
    }
    assert {c["site"]["code"] for c in body["communes"]} == {"A", "A2"}
    assert body["communes"][0]["site"]["latitude"] is not None

    # without a site the admin sees the one top-level province
    default = (await api.client.get("/api/v1/status", headers=admin)).json()
    assert default["site"]["code"] == "P" and default["counts"]["total"] == 7


async def test_device_json_carries_its_state_and_the_last_result_of_each_check(api, world):
    admin = api.as_("admin")
    switch = (await api.client.get(f"/api/v1/devices/{world.devices['SW-VUTHU-CORE']}", headers=admin)).json()
    assert switch["state"]["state"] == "down"
    assert switch["state"]["since"] is not None
    [check] = switch["state"]["checks"]
    assert check["check"] == "tcp" and check["ok"] is False and "refused" in check["reason"]
    assert check["error_kind"] == "unreachable"

    camera = (await api.client.get(f"/api/v1/devices/{world.devices['CAM-HONGLY-01']}", headers=admin)).json()
    assert camera["state"]["state"] == "unreachable"
    assert camera["state"]["root_cause_device_id"] == world.devices["SW-VUTHU-CORE"]

    alive = (await api.client.get(f"/api/v1/devices/{world.devices['CAM-DONGCAC-01']}", headers=admin)).json()
    assert alive["state"]["state"] == "up"
    assert alive["state"]["checks"][0]["ok"] is True and alive["state"]["checks"][0]["latency_ms"] > 0
    fixing = (
        await api.client.get(f"/api/v1/devices/{world.devices['CAM-DONGCAC-02']}", headers=admin)
    ).json()
    assert fixing["state"]["state"] == "maintenance"

    listed = await api.client.get("/api/v1/devices", params={"state": "unreachable"}, headers=admin)
    assert sorted(d["name"] for d in listed.json()["items"]) == sorted(DEAD[1:])
    assert all(d["state"]["state"] == "unreachable" for d in listed.json()["items"])
    both = await api.client.get(
        "/api/v1/devices", params=[("state", "down"), ("state", "unreachable")], headers=admin
    )
    assert both.json()["total"] == 4
    bad = await api.client.get("/api/v1/devices", params={"state": "asleep"}, headers=admin)
    assert bad.status_code == 422 and "state" in bad.text


async def test_open_outages_list_the_root_with_its_suppressed_devices_and_alert(api, world):
    admin = api.as_("admin")
    response = await api.client.get("/api/v1/outages", params={"open": "true"}, headers=admin)
    assert response.status_code == 200
    [outage] = response.json()
    assert (outage["device_name"], outage["state"], outage["end"]) == ("SW-VUTHU-CORE", "down", None)
    assert outage["id"] == world.outage_id and outage["alert_id"] == world.alert_id
    assert outage["alert_status"] == "firing"
    assert outage["duration_s"] > 0
    assert sorted(a["name"] for a in outage["affected"]) == sorted(DEAD[1:])
    assert {a["state"] for a in outage["affected"]} == {"unreachable"}
    assert outage["affected_count"] == 3

    elsewhere = await api.client.get("/api/v1/outages", params={"open": "true", "site": "D2"}, headers=admin)
    assert elsewhere.json() == []
    commune = await api.client.get("/api/v1/outages", params={"open": "true", "site": "A2"}, headers=admin)
    assert [o["device_name"] for o in commune.json()] == ["SW-VUTHU-CORE"], "the switch that cut A2 off"
    future = await api.client.get(
        "/api/v1/outages",
        params={"from": "2099-01-01T00:00:00+07:00", "to": "2099-01-02T00:00:00+07:00"},
        headers=admin,
    )
    assert future.json() == []
    backwards = await api.client.get(
        "/api/v1/outages",
        params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    naive = await api.client.get("/api/v1/outages", params={"from": "2026-01-02T00:00:00"}, headers=admin)
    assert naive.status_code == 422 and naive.json()["field"] == "from"
    too_many = await api.client.get("/api/v1/outages", params={"limit": 100000}, headers=admin)
    assert too_many.status_code == 422


async def test_an_unknown_site_answers_404_naming_it(api, world):
    for path in ("/api/v1/status", "/api/v1/outages", "/api/v1/devices"):
        response = await api.client.get(path, params={"site": "XA-KHONG-CO"}, headers=api.as_("admin"))
        assert response.status_code == 404, path
        assert "XA-KHONG-CO" in response.json()["detail"]


def test_sites_in_trouble_come_first_then_the_healthy_then_the_empty():
    from monitors.status_queries import SiteCounts, SiteInfo, _worst_first

    def entry(name: str, **counts: int) -> SiteCounts:
        return SiteCounts(SiteInfo(1, None, "/1/", "commune", name, name, None, None, None), counts)

    sites = [
        entry("An Bình"),
        entry("Bình Minh", up=5),
        entry("Cao Sơn", up=3, down=1),
        entry("Đông Á", unreachable=2),
    ]
    assert [s.site.name for s in sorted(sites, key=_worst_first) if s.site] == [
        "Cao Sơn",
        "Đông Á",
        "Bình Minh",
        "An Bình",
    ]
