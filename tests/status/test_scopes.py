"""A scoped user never sees other scopes' counts, outages or devices: one table, read top to bottom.

The world: the Vũ Thư switch (D1) is DOWN with cameras in communes A and A2 behind it; commune B (in
D2) is fine. maintenance_b is scoped to B, maintenance_a and engineer_a to A, maintenance_d1 to D1.
"""

from __future__ import annotations

import pytest

# (who, path, params) -> (status, what the answer shows)
#   status: counts of the root and the child codes;  outages: root device -> affected names;
#   device: the device's state;  devices: names listed.
CASES = [
    (
        "operator",
        "/status",
        {"site": "P"},
        200,
        ({"down": 1, "unreachable": 3, "up": 2, "maintenance": 1}, {"D1", "D2"}),
    ),
    ("maintenance_b", "/status", {}, 200, ({"up": 1, "maintenance": 1}, set())),
    ("maintenance_b", "/status", {"site": "P"}, 200, ({"up": 1, "maintenance": 1}, {"D2"})),
    ("maintenance_b", "/status", {"site": "D2"}, 200, ({"up": 1, "maintenance": 1}, {"B"})),
    ("maintenance_b", "/status", {"site": "D1"}, 404, "D1"),
    ("maintenance_b", "/status", {"site": "A"}, 404, "A"),
    ("maintenance_a", "/status", {"site": "D1"}, 200, ({"unreachable": 2}, {"A"})),
    ("maintenance_a", "/status", {"site": "A2"}, 404, "A2"),
    ("maintenance_d1", "/status", {"site": "P"}, 200, ({"down": 1, "unreachable": 3}, {"D1"})),
    ("maintenance_d1", "/status", {"site": "B"}, 404, "B"),
    (
        "operator",
        "/outages",
        {"open": "true"},
        200,
        {"SW-VUTHU-CORE": ["CAM-HONGLY-01", "CAM-HONGLY-02", "CAM-SONGAN-01"]},
    ),
    (
        "maintenance_d1",
        "/outages",
        {"open": "true"},
        200,
        {"SW-VUTHU-CORE": ["CAM-HONGLY-01", "CAM-HONGLY-02", "CAM-SONGAN-01"]},
    ),
    ("maintenance_b", "/outages", {"open": "true"}, 200, {}),
    ("maintenance_a", "/outages", {"open": "true"}, 200, {}),
    ("engineer_a", "/outages", {}, 200, {}),
    ("maintenance_b", "/outages", {"site": "D1"}, 404, "D1"),
    ("maintenance_b", "/devices/SW-VUTHU-CORE", {}, 404, ""),
    ("maintenance_b", "/devices/CAM-DONGCAC-01", {}, 200, "up"),
    ("engineer_a", "/devices/CAM-SONGAN-01", {}, 404, ""),
    ("engineer_a", "/devices/CAM-HONGLY-01", {}, 200, "unreachable"),
    ("maintenance_b", "/devices", {"state": ["down", "unreachable"]}, 200, set()),
    (
        "maintenance_a",
        "/devices",
        {"state": ["down", "unreachable"]},
        200,
        {"CAM-HONGLY-01", "CAM-HONGLY-02"},
    ),
    ("operator", "/devices", {"state": "down"}, 200, {"SW-VUTHU-CORE"}),
]


def shown(path: str, body):
    if path == "/status":
        counts = {k: v for k, v in body["counts"].items() if v and k != "total"}
        return counts, {c["site"]["code"] for c in body["children"]}
    if path == "/outages":
        return {o["device_name"]: sorted(a["name"] for a in o["affected"]) for o in body}
    if path == "/devices":
        return {d["name"] for d in body["items"]}
    return body["state"]["state"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_scoped_users_see_only_their_scope_in_status_outages_and_device_states(api, world):
    """One world for the whole table (it takes the monitors a few seconds to build)."""
    failures = []
    for who, path, params, status, expected in CASES:
        url = path
        if path.startswith("/devices/"):
            url = f"/devices/{world.devices[path.split('/')[-1]]}"
        response = await api.client.get(f"/api/v1{url}", params=params, headers=api.as_(who))
        if response.status_code != status:
            failures.append(f"{who} {path} {params}: {response.status_code} != {status}")
            continue
        if status == 404:
            if expected not in response.json()["detail"]:
                failures.append(f"{who} {path} {params}: 404 does not name {expected!r}")
            continue
        got = shown("device" if path.startswith("/devices/") else path, response.json())
        if got != expected:
            failures.append(f"{who} {path} {params}: showed {got!r}, expected {expected!r}")
    assert failures == []
