"""After ``ioc sites apply-reform-2025`` new points name the new units: the monitors (and every other
writer, which reloads its targets the same way) tag a moved device with its new commune's code."""

from __future__ import annotations

from pathlib import Path

from device_registry.models import Device, Site
from device_registry.services.vn import apply_reform_2025, load_legacy_province
from device_registry.vn import data as vn
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import EventBus
from monitors.runner import RegistryMonitors
from monitors.scheduler import STATUS_MEASUREMENT
from provisioning.mqtt.credentials import issue_credential
from telemetry.config import InfluxTarget, WriterConfig
from telemetry.ingest.directory import CredentialDirectory
from telemetry.writer import TelemetryWriter
from tests.monitors.conftest import Listeners
from tests.monitors.registry_world import ADMIN, DeviceKind, registry
from tests.monitors.test_scheduler import RecordingSink
from tests.support.tsdb import INFLUX_DB, start_influxdb


async def evaluate(monitors: RegistryMonitors, device_id: int) -> None:
    """Reload the registry as the running service does, then run the device's checks once now."""
    await monitors.refresh()
    scheduler = monitors.service.scheduler
    scheduler.recheck([device_id])
    await scheduler.tick()
    await scheduler.wait_idle()


async def test_points_switch_from_district_and_old_commune_to_the_2025_commune(
    db_url: str, listeners: Listeners, tmp_path: Path
) -> None:
    (service,) = await listeners.open(1)
    _, districts = vn.legacy_province("34")
    district, wards = districts[0]
    ward = wards[0]
    settings = MonitorSettings(default=StatePolicy(interval_s=3600), check_timeout_s=1)
    sink = RecordingSink()
    async with registry(db_url) as reg:
        async with reg.sessions() as session, session.begin():
            await load_legacy_province(session, ADMIN, "34")
        device_id = await reg.add_device(
            "cam-xa", DeviceKind.OTHER, f"vn-gso:legacy:{ward.code}", port=service.port
        )
        async with reg.sessions() as session, session.begin():
            await issue_credential(session, device_id)
        directory = CredentialDirectory(reg.sessions)
        monitors = RegistryMonitors(settings, reg.sessions, events=EventBus(), sink=sink)
        try:
            await evaluate(monitors, device_id)
            await directory.refresh()
            before = {"province": "34", "district": district.code, "commune": ward.code, "site": ward.code}
            device = {"device_id": str(device_id), "device": "cam-xa", "kind": "other"}
            assert sink.points and all(
                p.tags == {**device, **before, "check": p.tags["check"]} for p in sink.points
            )
            assert [p.tags for p in sink.statuses] == [{**device, **before}]
            assert directory.tags(device_id) == {**device, **before}, "what the MQTT ingest tags with"

            async with reg.sessions() as session, session.begin():
                reform = await apply_reform_2025(session, ADMIN, "34")
            assert reform.devices_moved == 1
            async with reg.sessions() as session:
                moved = await session.get(Device, device_id)
                assert moved is not None
                new_commune = await session.get(Site, moved.site_id)
                assert new_commune is not None and new_commune.valid_to is None
            after = {"province": "33", "commune": new_commune.code, "site": new_commune.code}

            written = [*sink.points, *sink.statuses]
            sink.points.clear()
            sink.statuses.clear()
            await evaluate(monitors, device_id)
            await directory.refresh()
        finally:
            await monitors.service.stop()
            await monitors.checks.close()
    assert sink.points and all(p.tags == {**device, **after, "check": p.tags["check"]} for p in sink.points)
    assert [(p.measurement, p.tags) for p in sink.statuses] == [(STATUS_MEASUREMENT, {**device, **after})]
    assert directory.tags(device_id) == {**device, **after}

    # Read back from a real InfluxDB 1.x the way the dashboards will (docs/telemetry.md).
    influx = start_influxdb(tmp_path / "influxdb")
    try:
        config = WriterConfig(
            spool_dir=tmp_path / "spool", target=InfluxTarget(url=influx.url, api="v1", database=INFLUX_DB)
        )
        async with TelemetryWriter(config) as writer:
            await writer.write([*written, *sink.points, *sink.statuses])
        series = influx.query(
            'SELECT count("up") FROM "device_status" WHERE "in_maintenance" = false GROUP BY "district", "commune"'
        )
        checks = influx.query(
            'SELECT count("ok") FROM "check_result" WHERE "province" = \'33\' GROUP BY "commune"'
        )
    finally:
        influx.process.stop()
    assert sorted((s["tags"]["district"], s["tags"]["commune"], s["values"][0][1]) for s in series) == sorted(
        [(district.code, ward.code, 1), ("", new_commune.code, 1)]
    )
    assert [(s["tags"]["commune"], s["values"][0][1]) for s in checks] == [
        (new_commune.code, len(sink.points))
    ]
