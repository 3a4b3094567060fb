"""The demo fleet's plan and the recordings its simulated switches replay."""

from __future__ import annotations

import ipaddress

import pytest

from device_registry.vn.data import legacy_province
from ioc.demo.fleet import FAULT_DISTRICT, REDUNDANT_DISTRICT, build_plan
from simulators.snmp_agents import data_root, device_recording, read_walk


@pytest.mark.parametrize(("size", "low", "high"), [("small", 55, 70), ("province", 900, 1100)])
def test_plan_sizes_addresses_and_uplinks(size: str, low: int, high: int) -> None:
    plan = build_plan(size, 42)  # type: ignore[arg-type]
    assert low <= plan.device_count <= high
    names = [s.name for s in plan.switches] + [c.name for c in plan.cameras] + [s.name for s in plan.sensors]
    assert len(names) == len(set(names))
    addresses = [s.address for s in plan.switches] + [c.address for c in plan.cameras]
    assert len(addresses) == len(set(addresses))
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("127.42.0.0/16") for a in addresses)
    uplinks = plan.uplinks()
    assert all(u in uplinks for ups in uplinks.values() for u in ups)  # every uplink is a demo device
    redundant = {name: ups for name, ups in uplinks.items() if len(ups) > 1}
    assert redundant == {f"sw-{REDUNDANT_DISTRICT[0]}": ("core-ioc-thai-binh", f"sw-{REDUNDANT_DISTRICT[1]}")}
    assert uplinks[f"sw-{FAULT_DISTRICT}"] == ("core-ioc-thai-binh",)
    assert sum(1 for c in plan.cameras if c.channels == 4) >= 1 and any(c.h265 for c in plan.cameras)
    assert sum(1 for s in plan.switches if s.wrap) == 1


def test_province_size_covers_every_pre_2025_commune() -> None:
    plan = build_plan("province", 42)
    _, districts = legacy_province("34")
    every = {commune.code for _, communes in districts for commune in communes}
    assert len(every) == 242
    assert {s.legacy_site for s in plan.switches if s.name.count("-") >= 2 and s.kind == "switch"} >= every


def test_recording_keeps_a_real_walk_and_makes_its_counters_advance() -> None:
    walk = read_walk(data_root() / "network/switch/cisco-c3560.snmprec.bz2")
    text = device_recording(walk, "sw-test", max_interfaces=3)
    lines = text.splitlines()
    assert "1.3.6.1.2.1.1.5.0|4|sw-test" in lines
    assert any(line.startswith("1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.") for line in lines)  # Cisco's sysObjectID
    octets = [line for line in lines if line.startswith("1.3.6.1.2.1.2.2.1.10.")]
    assert len(octets) == 3 and all("|65:numeric|" in line and "wrap=1" in line for line in octets)
    assert any(line.startswith("1.3.6.1.2.1.1.3.0|67:numeric|") for line in lines)
    wrap = device_recording(walk, "sw-wrap", max_interfaces=3, wrap_agent=True)
    assert sum(":writecache|" in line for line in wrap.splitlines()) == 1
    assert not any(line.startswith("1.3.6.1.2.1.31.") for line in wrap.splitlines())  # 32-bit only
