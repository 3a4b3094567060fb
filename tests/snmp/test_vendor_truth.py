"""Vendor truth: the enterprise number names the vendor unless the agent is generic; rules refine.

The table holds the system group of every snmpsim recording the SNMP tests use (snmpsim-data's and
ours) plus generic-agent cases met in the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.snmp import identify
from tests.support.snmpd import RECORDINGS, SHIPPED


def _system_group(path: Path) -> tuple[str | None, str | None]:
    values: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        if oid in ("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"):
            values[oid] = rest.partition("|")[2]
    return values.get("1.3.6.1.2.1.1.2.0"), values.get("1.3.6.1.2.1.1.1.0")


def _recordings() -> dict[str, Path]:
    import snmpsim

    shipped = Path(snmpsim.__file__).parent / "data" / "recorded"
    found = {name: shipped / f"{name}.snmprec" for name in SHIPPED}
    found.update({p.stem: p for p in RECORDINGS.glob("*.snmprec")})
    return found


# recording -> (vendor, family); None = unknown, with a note saying why
RECORDED = {
    "linux-full-walk": (None, "Linux host"),  # net-snmp 8072 on a Cray: the agent is not the maker
    "winxp-full-walk": (None, "Windows host"),  # Windows SNMP service (311.1.1.3) runs on any PC
    "eaton-9PX-partial-walk": ("Eaton", "UPS"),  # 705: Eaton/MGE, with the model from Eaton's MIB
    "solaris-system": ("Sun Microsystems", None),
    "linksys-system": ("Linksys", None),
    "odd": (None, None),  # no sysObjectID at all: no guess from its Cisco-like sysDescr
    "wrap": (None, "Linux host"),  # net-snmp 8072
}


def test_every_recording_the_tests_use_is_in_the_table() -> None:
    assert set(_recordings()) == set(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recordings_get_the_vendor_of_their_enterprise_or_none_with_a_reason(name: str) -> None:
    sys_object_id, sys_descr = _system_group(_recordings()[name])
    found = identify.identify(sys_object_id, sys_descr)
    assert (found.vendor, found.family) == RECORDED[name]
    if found.vendor is None:
        assert found.notes, "an unknown vendor must say why"


@pytest.mark.parametrize(
    ("sys_object_id", "sys_descr", "vendor", "family", "note"),
    [
        # Brocade (1588) Fibre Channel switch: its model starts with DS- like Hikvision cameras
        ("1.3.6.1.4.1.1588.2.1.1.1", "DS-5100B", "Brocade Communications Systems", None, None),
        ("1.3.6.1.4.1.1588.2.1.1.1", "Fibre Channel Switch DS-5100B v7.4.2", "Brocade Communications Systems",
         None, None),
        # net-snmp in an IP camera: a Dahua-looking model is a guess, not evidence
        ("1.3.6.1.4.1.8072.3.2.10", "IPC-HFW2431S-S-S2", None, "Linux host", "suggested Dahua"),
        ("1.3.6.1.4.1.8072.3.2.10", "Linux ipc 4.9.37 #1 SMP armv7l", None, "Linux host", "net-snmp agent"),
        # the same camera with its maker's name in sysDescr: strong evidence
        ("1.3.6.1.4.1.8072.3.2.10", "Dahua IPC-HFW2431S-S-S2", "Dahua", "IP camera", None),
        ("1.3.6.1.4.1.8072.3.2.10", "Hikvision DS-2CD2143G0-I", "Hikvision", "IP camera", None),
        ("1.3.6.1.4.1.8072.3.2.10", "DS-2CD2143G0-I", None, "Linux host", "suggested Hikvision"),
        # UCD (2021) and Broadcom's reference switch software (4413) are generic agents too
        ("1.3.6.1.4.1.2021.250.10", "Linux nvr 3.10.0", None, "Linux host", "UCD-SNMP agent"),
        ("1.3.6.1.4.1.4413", "24-port Gigabit L2 switch", None, None, "Broadcom reference"),
        # a real vendor's enterprise: rules refine within it
        ("1.3.6.1.4.1.39165.1.1", "DS-2CD2143G0-I", "Hikvision", "IP camera", None),
        ("1.3.6.1.4.1.9.1.1208", "DS-5100B lookalike text", "Cisco", "network device", None),
        ("1.3.6.1.4.1.41112.1.6", "EdgeOS v2.0.9", "Ubiquiti", "router", None),
        # Windows: the OS is known, the hardware maker is not
        ("1.3.6.1.4.1.311.1.1.3.1.2", "Hardware: Intel64 - Software: Windows Version 6.3 (Build 17763 "
         "Multiprocessor Free)", None, "Windows host", "Windows SNMP service"),
    ],
)  # fmt: skip
def test_generic_agents_name_no_vendor_without_strong_evidence(
    sys_object_id: str, sys_descr: str, vendor: str | None, family: str | None, note: str | None
) -> None:
    found = identify.identify(sys_object_id, sys_descr)
    assert (found.vendor, found.family) == (vendor, family)
    if note is not None:
        assert any(note in n for n in found.notes), found.notes


def test_an_answer_under_the_vendors_enterprise_is_strong_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = identify._compile_rule(
        0,
        {
            "when": {"sys_descr": "camera"},
            "fetch": {"hik_model": "1.3.6.1.4.1.39165.1.1.0"},
            "set": {"vendor": "Hikvision", "model": "{hik_model}"},
        },
    )
    monkeypatch.setattr(identify, "rules", lambda: (rule,))
    netsnmp = "1.3.6.1.4.1.8072.3.2.10"
    answered = identify.identify(netsnmp, "IP camera", {"hik_model": "DS-2CD2143G0-I"})
    assert (answered.vendor, answered.model) == ("Hikvision", "DS-2CD2143G0-I")
    silent = identify.identify(netsnmp, "IP camera", {})
    assert silent.vendor is None and any("suggested Hikvision" in n for n in silent.notes)


@pytest.mark.timeout(20)
def test_a_hostile_megabyte_sysdescr_is_cut_before_the_rules_run() -> None:
    """Every rule's own opening words, repeated for a megabyte: what a backtracking regex chokes on.
    The rules see only the first KiB (the model written past it is never found), and it finishes."""
    openers = (
        "Cisco NX-OS n1 Cisco IOS Software IOS-XE Cisco IOS XR Software Cisco Internetwork Operating "
        "System Software IOS (tm) x Software VRP (R) software, Version Comware Software, Software "
        "Version 1 ZXR10 ROS Version V1 Juniper Networks, Inc. x JUNOS RGOS ( MN: PF:v DS-1 IPC-AA "
    )
    hostile = openers * (1_000_000 // len(openers)) + " DS-2CD2143G0-I"
    for sys_object_id in ("1.3.6.1.4.1.9.1.1", "1.3.6.1.4.1.2011.2.23", "1.3.6.1.4.1.8072.3.2.10", None):
        found = identify.identify(sys_object_id, hostile)
        assert any("sysDescr cut to 1024 characters" in n for n in found.notes)
        assert found.model != "DS-2CD2143G0-I"  # written after the first KiB: never seen
