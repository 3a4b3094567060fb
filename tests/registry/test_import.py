"""Bulk import from the spreadsheets engineers keep: all or nothing, every error with line and field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from device_registry.errors import ImportRejected
from device_registry.models import AuditEntry, Device, DeviceUplink
from device_registry.services.importer import export_devices, import_devices
from tests.registry.seed import ADMIN, build_world

HEADER = "name,kind,site,address,protocols,uplinks,tags,vendor\n"


def fleet_csv(n: int, bad_line: int | None = None) -> str:
    """A district switch per commune site and cameras behind them; line numbers count the header as 1."""
    lines = [HEADER]
    for i in range(n):
        line_no = i + 2
        site = ("A", "A2", "B")[i % 3]
        if i < 3:
            row = f"sw-{site},switch,{site},10.0.{i}.1,snmp,,core,Cisco"
        else:
            kind = "toaster" if line_no == bad_line else "camera"
            row = f"cam-{i:05d},{kind},{site},10.{1 + i // 65000}.{(i // 250) % 256}.{i % 250 + 1},onvif,sw-{site},traffic;phase1,Hikvision"
        lines.append(row + "\n")
    return "".join(lines)


async def count_devices(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count(Device.id))) or 0


@pytest.fixture
async def world(sessions):
    return await build_world(sessions)


async def test_ten_thousand_devices_with_one_bad_line_write_nothing(sessions, world):
    text = fleet_csv(10_000, bad_line=5_001)
    with pytest.raises(ImportRejected) as rejected:
        async with sessions() as session, session.begin():
            await import_devices(session, ADMIN, text, "csv")
    assert [(e.line, e.field) for e in rejected.value.errors] == [(5_001, "kind")]
    assert "line 5001, field kind" in str(rejected.value)
    assert await count_devices(sessions) == 0
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.object_type == "device"))
            == 0
        )


async def test_ten_thousand_devices_import_and_export_round_trip(sessions, world):
    async with sessions() as session, session.begin():
        result = await import_devices(session, ADMIN, fleet_csv(10_000), "csv")
    assert len(result.created) == 10_000 and not result.updated
    assert await count_devices(sessions) == 10_000
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeviceUplink)) == 9_997
        exported = await export_devices(
            session, ADMIN, list((await session.scalars(select(Device))).all()), "csv"
        )
    async with sessions() as session, session.begin():
        again = await import_devices(session, ADMIN, exported, "csv")
    assert (len(again.created), len(again.updated), again.unchanged) == (0, 0, 10_000)


async def test_yaml_import_reports_the_line_of_the_bad_item(sessions, world):
    text = """devices:
  - name: sw-1
    kind: switch
    site: A
  - name: cam-1
    kind: camera
    site: A
    address: 10.0.0.999
    uplinks: [sw-1]
"""
    with pytest.raises(ImportRejected) as rejected:
        async with sessions() as session, session.begin():
            await import_devices(session, ADMIN, text, "yaml")
    assert [(e.line, e.field) for e in rejected.value.errors] == [(5, "address")]
    assert await count_devices(sessions) == 0


@pytest.mark.parametrize(
    ("rows", "line", "field", "words"),
    [
        (["a,switch,A,,,b,,", "b,switch,A,,,a,,"], 2, "uplinks", "cycle"),
        (["a,switch,A,,,ghost,,"], 2, "uplinks", "ghost"),
        (["a,switch,NOWHERE,,,,,"], 2, "site", "NOWHERE"),
        (["a,switch,A,,,,,", "a,camera,A,,,,,"], 3, "name", "duplicate"),
        (["a,switch,A,,bogus,,,"], 2, "protocols.0", "onvif"),
        (["a,switch,A,,,,bad tag,"], 2, "tags", "tag"),
    ],
)
async def test_each_error_names_line_and_field(sessions, world, rows, line, field, words):
    with pytest.raises(ImportRejected) as rejected:
        async with sessions() as session, session.begin():
            await import_devices(session, ADMIN, HEADER + "\n".join(rows) + "\n", "csv")
    error = rejected.value.errors[0]
    assert (error.line, error.field) == (line, field) and words in error.message
    assert await count_devices(sessions) == 0


async def test_dry_run_reports_and_writes_nothing(sessions, world):
    async with sessions() as session, session.begin():
        result = await import_devices(session, ADMIN, fleet_csv(20), "csv", dry_run=True)
        await session.rollback()
    assert len(result.created) == 20 and result.dry_run
    assert await count_devices(sessions) == 0


async def test_reimport_updates_changed_rows_only(sessions, world):
    async with sessions() as session, session.begin():
        await import_devices(session, ADMIN, fleet_csv(10), "csv")
    changed = fleet_csv(10).replace("cam-00005,camera,B", "cam-00005,camera,A")
    assert changed != fleet_csv(10)
    async with sessions() as session, session.begin():
        result = await import_devices(session, ADMIN, changed, "csv")
    assert result.updated == ["cam-00005"] and result.unchanged == 9


async def test_unknown_column_is_refused(sessions, world):
    with pytest.raises(ImportRejected) as rejected:
        async with sessions() as session, session.begin():
            await import_devices(session, ADMIN, "name,kind,site,colour\nx,camera,A,red\n", "csv")
    assert (rejected.value.errors[0].line, rejected.value.errors[0].field) == (1, "colour")
