"""`ioc alerts …` end to end: the real `ioc` program against the test database, with and without --json."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from monitors.alerting.models import Channel, OutboxItem, Route
from monitors.events import DeviceState
from tests.alerting import scenario
from tests.alerting.scenario import change, configure, drain


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The CLI starts a fresh interpreter per command (seconds each): SQLite only here."""
    return sqlite_url


SECRET_KEY = scenario.SECRET_KEY.get_secret_value()
"""The key of the tests' alerting context: what the CLI seals, the service opens."""
IOC = str(Path(sys.executable).with_name("ioc"))


async def ioc(db_url: str, home: Path, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "IOC_DATABASE_URL": db_url,
        "IOC_HOME": str(home),
        "IOC_SECRET_KEY": SECRET_KEY,
        "COLUMNS": "200",
    }
    process = await asyncio.create_subprocess_exec(
        IOC, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_list_ack_and_resolve_from_the_command_line(
    context, world, service, webhook, clock, db_url, tmp_path
):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    await service.handle(change(104, DeviceState.DOWN, clock.now()))

    code, out, _ = await ioc(db_url, tmp_path, "--json", "alerts", "list")
    assert code == 0
    listed = json.loads(out)
    assert [(a["device_name"], a["status"], a["team"]) for a in listed] == [
        ("CAM-VULE-01", "firing", "Provincial data centre"),
        ("CAM-TANHOA-01", "firing", "Đội kỹ thuật xã Tân Hòa"),
    ]
    tan_hoa = listed[1]
    assert tan_hoa["site_path"] == "Tỉnh Thái Bình › Huyện Vũ Thư › Xã Tân Hòa"

    code, out, _ = await ioc(
        db_url,
        tmp_path,
        "--json",
        "alerts",
        "ack",
        str(tan_hoa["id"]),
        "--comment",
        "Đang xử lý",
        "--user",
        "lan",
    )
    assert code == 0, out
    acked = json.loads(out)
    assert acked["status"] == "acknowledged"
    assert [(k["user"], k["comment"]) for k in acked["acknowledgements"]] == [("lan", "Đang xử lý")]

    code, out, _ = await ioc(db_url, tmp_path, "alerts", "resolve", str(tan_hoa["id"]), "--user", "minh")
    assert (code, out.strip()) == (
        0,
        f"alert {tan_hoa['id']} resolved: CAM-TANHOA-01 (Tỉnh Thái Bình › Huyện Vũ Thư › Xã Tân Hòa)",
    )

    code, out, _ = await ioc(db_url, tmp_path, "alerts", "list")
    assert code == 0 and "CAM-VULE-01" in out and "CAM-TANHOA-01" not in out
    code, out, _ = await ioc(db_url, tmp_path, "--json", "alerts", "show", str(tan_hoa["id"]))
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "resolved"
    assert [(d["message_kind"], d["status"]) for d in shown["deliveries"]] == [
        ("firing", "pending"),
        ("resolved", "pending"),
    ]

    code, _, err = await ioc(db_url, tmp_path, "--json", "alerts", "ack", "999", "--user", "lan")
    assert code == 2 and json.loads(err) == {"error": "alert 999 does not exist"}
    code, _, err = await ioc(
        db_url, tmp_path, "--json", "alerts", "resolve", str(tan_hoa["id"]), "--user", "minh"
    )
    assert code == 2 and "already resolved" in json.loads(err)["error"]


async def test_configuration_commands_refuse_bad_input_with_the_field(context, world, db_url, tmp_path):
    code, out, _ = await ioc(db_url, tmp_path, "--json", "alerts", "team-add", "Đội Vũ Lễ")
    assert code == 0
    team = json.loads(out)["id"]
    code, _, err = await ioc(db_url, tmp_path, "--json", "alerts", "channel-add", str(team), "tgram://s3cr3t")
    assert code == 2
    refused = json.loads(err)
    assert refused["details"] == {"field": "url"} and "s3cr3t" not in err
    code, _, err = await ioc(
        db_url, tmp_path, "--json", "alerts", "route-add", "ghost", "999", "--site", "13330"
    )
    assert code == 2 and json.loads(err)["error"] == "team_id: team 999 does not exist"
    code, out, _ = await ioc(
        db_url,
        tmp_path,
        "--json",
        "alerts",
        "channel-add",
        str(team),
        "mailto://user:s3cr3t@127.0.0.1:2525?from=ioc@example.vn&to=a@b.vn",
        "--quiet",
        "22:00-06:00",
    )
    assert code == 0 and "s3cr3t" not in json.loads(out)["url"]
    code, out, _ = await ioc(
        db_url, tmp_path, "--json", "alerts", "route-add", "vu-le", str(team), "--site", "13330"
    )
    assert code == 0
    async with context.sessions() as session:
        assert (await session.scalar(select(Route.site_id))) == world.sites["13330"]
        channel = await session.scalar(select(Channel))
    assert channel is not None and str(channel.quiet_start) == "22:00:00"


async def test_channel_urls_show_only_their_scheme_and_migrate_seals_legacy_clear_rows(
    context, world, service, webhook, clock, db_url, tmp_path
):
    token = "7301234567-AAH-zalo-bot-token"
    province = await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    secret = webhook.url.replace("json://", f"json://bot:{token}@") + f"/{token}"
    code, out, err = await ioc(
        db_url,
        tmp_path,
        "--json",
        "alerts",
        "channel-add",
        str(province.commune_team),
        secret,
        "--name",
        "zalo",
    )
    assert code == 0, err
    added = json.loads(out)
    assert added["url"] == "json://***" and token not in out + err

    # An earlier version stored URLs in clear: such a row is listed masked, and `ioc migrate` seals it.
    async with context.sessions() as session, session.begin():
        await session.execute(update(Channel).where(Channel.id == added["id"]).values(url=secret))
    code, out, err = await ioc(db_url, tmp_path, "--json", "alerts", "channel-list")
    assert code == 0, err
    assert token not in out and {c["url"] for c in json.loads(out)} == {"json://***"}
    code, out, err = await ioc(db_url, tmp_path, "--json", "migrate")
    assert code == 0, err
    assert json.loads(out)["sealed_channel_urls"] == 1
    async with context.sessions() as session:
        stored = await session.scalar(select(Channel.url).where(Channel.id == added["id"]))
    assert stored is not None and token not in stored and "://" not in stored

    # The sealed legacy row still delivers: the commune team's two channels both get the outage.
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    assert await drain(service.worker) == 2
    async with context.sessions() as session:
        lanes = dict((await session.execute(select(OutboxItem.lane, OutboxItem.status))).tuples().all())
    assert lanes[f"channel:{added['id']}"] == "sent" and set(lanes.values()) == {"sent"}
    assert len(webhook.wait_for(2)) == 2
