"""Every token expires; a token cannot mint one that outlives it; tokens can be listed and revoked,
one by one or all at once, through the API (admins for anyone, users for themselves) and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.security.conftest import Live


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_stolen_short_lived_token_cannot_mint_a_longer_one(live: Live) -> None:
    user_id, _ = live.user("engineer")
    now = datetime.now(UTC)
    with live.as_admin() as admin:
        short = admin.post(
            f"/api/v1/users/{user_id}/tokens",
            json={"name": "laptop", "expires_at": (now + timedelta(hours=2)).isoformat()},
        )
        assert short.status_code == 201, short.text
        too_long = admin.post(
            f"/api/v1/users/{user_id}/tokens", json={"expires_at": (now + timedelta(days=400)).isoformat()}
        )
        assert too_long.status_code == 422 and too_long.json()["field"] == "expires_at"
    stolen = short.json()
    tokens_before = live.count("api_tokens")
    with live.client(stolen["token"]) as thief:
        forever = thief.post(
            "/api/v1/me/tokens", json={"expires_at": (now + timedelta(days=300)).isoformat()}
        )
        assert forever.status_code == 422 and forever.json()["field"] == "expires_at", forever.text
        assert live.count("api_tokens") == tokens_before  # nothing written
        default = thief.post("/api/v1/me/tokens", json={"name": "child"})
        assert default.status_code == 201
        assert _at(default.json()["expires_at"]) <= _at(stolen["expires_at"])  # clamped to its parent
    with live.as_admin() as admin:
        mine = admin.post("/api/v1/me/tokens", json={"name": "default"})
        assert mine.status_code == 201
        lifetime = _at(mine.json()["expires_at"]) - datetime.now(UTC)
        assert timedelta(days=89) < lifetime <= timedelta(days=90)  # the default lifetime
    assert live.healthy()


def test_listing_and_revoking_tokens_over_rest(live: Live) -> None:
    eng_id, eng_token = live.user("engineer")
    other_id, other_token = live.user("operator")
    with live.client(eng_token) as eng:
        own = eng.get("/api/v1/me/tokens").json()
        assert [t["user_id"] for t in own] == [eng_id] and "token" not in own[0]
        assert eng.get(f"/api/v1/users/{other_id}/tokens").status_code == 403
        other_ids = [t["id"] for t in live.as_admin().get(f"/api/v1/users/{other_id}/tokens").json()]
        assert eng.delete(f"/api/v1/tokens/{other_ids[0]}").status_code == 404  # not even its existence
        assert eng.delete(f"/api/v1/users/{other_id}/tokens").status_code == 403
    with live.client(other_token) as other:
        assert other.get("/api/v1/me").status_code == 200  # the engineer's attempts changed nothing
    with live.as_admin() as admin:
        revoked = admin.delete(f"/api/v1/users/{other_id}/tokens")
        assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    with live.client(other_token) as other:
        assert other.get("/api/v1/me").status_code == 401
    with live.client(eng_token) as eng:
        spare = eng.post("/api/v1/me/tokens", json={"name": "spare"}).json()
        assert eng.delete("/api/v1/me/tokens").json() == {"revoked": 2}  # the one in use included
        assert eng.get("/api/v1/me").status_code == 401
    with live.client(spare["token"]) as eng:
        assert eng.get("/api/v1/me").status_code == 401
    assert live.healthy()


def test_cli_issues_expiring_tokens_lists_and_revokes_them(live: Live) -> None:
    user_id, first = live.user("operator")
    username = live.as_admin().get("/api/v1/users").json()[-1]["username"]
    issued = live.ioc("--json", "users", "token", username, "--expires", "2d")
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)
    assert abs(_at(token["expires_at"]) - (datetime.now(UTC) + timedelta(days=2))) < timedelta(minutes=5)
    listed = live.ioc("--json", "users", "tokens", username)
    assert {t["id"] for t in json.loads(listed.stdout)} >= {token["id"]}
    one = live.ioc("--json", "users", "revoke-token", str(token["id"]))
    assert one.returncode == 0 and live.client(token["token"]).get("/api/v1/me").status_code == 401
    assert live.client(first).get("/api/v1/me").status_code == 200
    everything = live.ioc("--json", "users", "revoke-token", "--all", "--user", username)
    assert everything.returncode == 0 and json.loads(everything.stdout)["revoked"] == 1
    assert live.client(first).get("/api/v1/me").status_code == 401
    assert user_id and live.healthy()
