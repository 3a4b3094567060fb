"""Probing real agents and real-device recordings: identity, interfaces, and what a broken agent lacks."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.errors import AuthFailed, DeviceTimeout
from provisioning.snmp import identify
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpEndpoint
from provisioning.snmp.probe import NOT_READ, ProbeResult, probe
from tests.support.snmpd import Agent, community, v3_credential

ROOT = Path(__file__).resolve().parents[2]


def _not_read(result: ProbeResult) -> list[str]:
    """What the probe's notes say it could not read, as in ``"not read: ifXTable"``."""
    return [note.removeprefix(NOT_READ) for note in result.notes if note.startswith(NOT_READ)]


async def _probe(port: int, credential, **kw):
    async with SnmpClient() as client:
        return await probe(
            client, SnmpEndpoint("127.0.0.1", credential, port=port, timeout=1, retries=0), **kw
        )


async def test_snmpd_over_v3_is_identified_as_net_snmp_linux_with_its_interfaces(snmpd: Agent) -> None:
    result = await _probe(snmpd.port, v3_credential())
    assert result.sys_name == "snmpd-under-test" and result.sys_location == "Test rack"
    assert result.enterprise_number == 8072 and result.vendor is None  # a generic agent names no vendor
    assert result.notes and "net-snmp agent" in result.notes[-1]
    assert result.family == "Linux host" and (result.os or "").startswith("Linux ")
    assert result.has_ifx_table and _not_read(result) == []
    loopback = next(i for i in result.interfaces if i.name == "lo")
    assert loopback.type == 24 and loopback.oper_status == "up" and loopback.admin_status == "up"
    assert result.uptime_s is not None and result.uptime_s >= 0


async def test_windows_recording_without_ifxtable_still_lists_interfaces(snmpsim: Agent) -> None:
    result = await _probe(snmpsim.port, community("winxp-full-walk"))
    assert result.vendor is None and result.os == "Windows 5.1 build 2600"  # Windows SNMP service
    assert not result.has_ifx_table and "ifXTable" in _not_read(result)
    assert [i.index for i in result.interfaces] == [1, 65539, 65540]
    wifi = result.interfaces[1]
    assert wifi.name is None and wifi.descr is not None and "Wireless" in wifi.descr
    assert wifi.speed_bps == 54_000_000 and wifi.mac == "00:0e:35:d3:3d:53"


async def test_eaton_ups_recording_gets_model_from_vendor_mib_and_reports_missing_system_fields(
    snmpsim: Agent,
) -> None:
    result = await _probe(snmpsim.port, community("eaton-9PX-partial-walk"))
    assert result.vendor == "Eaton" and result.vendor_registry_name == "Merlin Gerin"
    assert result.family == "UPS" and result.model == "Eaton 9PX 2200i RT 3U"
    assert {"sysDescr", "sysUpTime", "ifTable"} <= set(_not_read(result))
    assert result.interfaces == []


async def test_odd_agent_with_garbage_rows_saves_what_it_could(snmpsim: Agent) -> None:
    result = await _probe(snmpsim.port, community("odd"))
    assert result.sys_name == "odd-switch"
    assert result.vendor is None and result.sys_object_id is None  # no sysObjectID: no vendor guess
    assert "sysObjectID" in _not_read(result)
    assert [i.index for i in result.interfaces] == [1, 2, 3]
    first, second, _ = result.interfaces
    assert first.type is None and first.oper_status is None  # wrong value types are dropped, not fatal
    assert second.type == 6 and second.speed_bps == 1_000_000_000 and second.mac is None  # 5-byte MAC
    assert any("malformed index" in note for note in result.notes)


async def test_walk_bounded_by_rows_reports_partial_interfaces(snmpsim: Agent) -> None:
    result = await _probe(snmpsim.port, community("winxp-full-walk"), max_interfaces=1)
    assert any(m.startswith("ifTable (partial") for m in _not_read(result))
    assert len(result.interfaces) >= 1


async def test_wrong_credentials_fail_with_a_clear_message(snmpd: Agent) -> None:
    with pytest.raises(AuthFailed, match="authentication failed or no answer"):
        await _probe(snmpd.port, v3_credential(auth_key="wrong-key-123"))
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("nope"), port=snmpd.port, timeout=0.2, retries=0)
        with pytest.raises(DeviceTimeout, match="authentication failed or no answer"):
            await probe(client, endpoint)


def test_enterprise_table_is_generated_from_the_registry_and_prefers_short_names(tmp_path: Path) -> None:
    shipped = ROOT / "provisioning/snmp/data/enterprises.tsv.gz"
    regenerated = tmp_path / "enterprises.tsv.gz"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/gen_enterprises.py"),
            "/usr/share/wireshark/enterprises.tsv",
            str(regenerated),
        ],
        check=True,
        capture_output=True,
    )
    assert gzip.decompress(regenerated.read_bytes()) == gzip.decompress(shipped.read_bytes())
    table = identify.enterprises()
    assert len(table) > 60_000
    assert (table[9].name, table[9].registry_name) == ("Cisco", "ciscoSystems")
    assert table[2636].name == "Juniper" and table[25506].name == "H3C" and table[3902].name == "ZTE"
    assert table[6574].name == "Synology"  # mechanical: "Synology Inc." without the legal form


@pytest.mark.parametrize(
    ("sys_object_id", "sys_descr", "expected"),
    [
        (
            "1.3.6.1.4.1.9.1.1208",
            "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(2)E7, RELEASE SOFTWARE",
            ("Cisco", "switch", "C2960X", "IOS 15.2(2)E7"),
        ),
        (
            "1.3.6.1.4.1.2011.2.23.324",
            "S5720-28X-SI-AC\r\nHuawei Versatile Routing Platform Software\r\n"
            "VRP (R) software, Version 5.170 (S5720 V200R011C10SPC500)",
            ("Huawei", "switch", "S5720-28X-SI-AC", "VRP 5.170 V200R011C10SPC500"),
        ),
        (
            "1.3.6.1.4.1.25506.1.1",
            "H3C Comware Platform Software, Software Version 7.1.064, Release 2612P06\r\nH3C S5130S-28P-EI",
            ("H3C", "switch", "S5130S-28P-EI", "Comware 7.1.064 R2612P06"),
        ),
        (
            "1.3.6.1.4.1.3902.3.100.22",
            "ZXR10 ROS Version V4.08.23 ZXR10 5928E Software",
            ("ZTE", "switch", "ZXR10 5928E", "ZXROS V4.08.23"),
        ),
        (
            "1.3.6.1.4.1.2636.1.1.1.2.30",
            "Juniper Networks, Inc. ex2200-24t-4g Ethernet Switch, kernel JUNOS 12.3R6.6, Build date",
            ("Juniper", "switch", "ex2200-24t-4g", "Junos 12.3R6.6"),
        ),
        (
            "1.3.6.1.4.1.4881.1.1.10.1.257",
            "Ruijie Full Gigabit Security & Intelligence Access Switch(S2910-24GT4XS-E) By Ruijie Networks",
            ("Ruijie", "switch", "S2910-24GT4XS-E", "RGOS"),
        ),
        ("1.3.6.1.4.1.171.10.76.28", "DGS-1210-28 ver 4.10.023", ("D-Link", "switch", "DGS-1210-28", None)),
        (
            "1.3.6.1.4.1.318.1.3.2.12",
            "APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.4.6 PN:apc_hw05_aos_646.bin MN:AP9631 HR:05)",
            ("APC", "UPS", "AP9631", "AOS 6.4.6"),
        ),
        ("1.3.6.1.4.1.39165.1.1", "DS-2CD2143G0-I", ("Hikvision", "IP camera", "DS-2CD2143G0-I", None)),
        (
            "1.3.6.1.4.1.8072.3.2.10",
            "Dahua IPC-HFW2431S-S-S2",
            ("Dahua", "IP camera", "IPC-HFW2431S-S-S2", "Linux"),
        ),
        (
            "1.3.6.1.4.1.14988.1",
            "RouterOS CCR1036-8G-2S+",
            ("MikroTik", "router", "CCR1036-8G-2S+", "RouterOS"),
        ),
        ("1.3.6.1.4.1.41112.1.6", "EdgeOS v2.0.9", ("Ubiquiti", "router", None, "EdgeOS 2.0.9")),
    ],
)
def test_rules_identify_the_vendors_the_province_runs(
    sys_object_id: str, sys_descr: str, expected: tuple[str | None, ...]
) -> None:
    found = identify.identify(sys_object_id, sys_descr)
    assert (found.vendor, found.family, found.model, found.os) == expected
